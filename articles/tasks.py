"""Background work, through Django's Tasks API (workers: ``manage.py db_worker``)."""

import logging
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.tasks import task

from articles import actions, nlp, quality, training
from articles.models import Article

log = logging.getLogger(__name__)


def preannotate(article_ids: Sequence[int]) -> int:
    """Runs the model over these articles and stores its spans; returns the number of spans stored."""
    created = actions.ensure_labels(nlp.labels())
    if created:
        log.warning("The model has labels the project did not know; created: %s", ", ".join(created))
    name, version = nlp.model_identity()
    articles = list(Article.objects.filter(pk__in=article_ids).only("id", "body"))
    stored = 0
    for article, spans in zip(articles, nlp.entities(a.body for a in articles), strict=True):
        stored += actions.store_model_spans(article, spans, name, version)
    return stored


@task()
def preannotate_articles(article_ids: list[int]) -> int:
    return preannotate(article_ids)


@task()
def refresh_quality() -> str:
    """Recomputes the quality page's figures; returns when they were computed."""
    return quality.refresh().computed_at.isoformat()


@task()
def train_model(user_id: int | None = None, force: bool = False) -> dict[str, object]:
    """Retrains from reviewed articles; if the new model becomes active, pre-annotates unopened articles again."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    outcome = training.train(force=force, user=user)
    spans = preannotate(training.pending_for_reannotation()) if outcome.activated else 0
    return {
        "model": str(outcome.model),
        "activated": outcome.activated,
        "old": outcome.old,
        "new": outcome.new,
        "spans": spans,
    }

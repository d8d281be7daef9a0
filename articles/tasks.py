"""Background work, through Django's Tasks API (workers: ``manage.py db_worker``)."""

import itertools
import logging
from collections.abc import Sequence

from django.contrib.auth import get_user_model
from django.tasks import task

from articles import actions, quality, uploads
from articles.models import Article

log = logging.getLogger(__name__)

PREANNOTATION_CHUNK = 100


def preannotate(article_ids: Sequence[int]) -> int:
    """Runs the model over these articles and stores its spans; returns the number of spans stored."""
    # spaCy takes seconds to import: only the processes that run the model pay for it, not every
    # command or web process that merely queues work.
    from articles import nlp

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


def queue_preannotation(article_ids: Sequence[int]) -> None:
    """Queues pre-annotation in chunks, so that several workers share a large import."""
    for chunk in itertools.batched(article_ids, PREANNOTATION_CHUNK):
        preannotate_articles.enqueue(list(chunk))


@task()
def check_upload(batch_id: int) -> str:
    with uploads.failing_loudly(batch_id) as batch:
        return uploads.check(batch).status


@task()
def import_upload(batch_id: int) -> str:
    with uploads.failing_loudly(batch_id) as batch:
        return uploads.run_import(batch).status


@task()
def refresh_quality() -> str:
    """Recomputes the quality page's figures; returns when they were computed."""
    return quality.refresh().computed_at.isoformat()


@task()
def train_model(user_id: int | None = None, force: bool = False) -> dict[str, object]:
    """Retrains from reviewed articles; if the new model becomes active, pre-annotates unopened articles again."""
    from articles import training  # spaCy: see preannotate()

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

"""Storing the model's output: it replaces the model's own untouched spans, and editors' work always wins."""

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone

from articles.models import Article, Label, Span, SpanEvent
from articles.nlp.pipeline import ModelSpan


@transaction.atomic
def store_model_output(
    outputs: Mapping[int, Sequence[ModelSpan]], model_name: str, model_version: str, *, include_reviewed: bool = False
) -> int:
    """Replaces these articles' untouched model spans with the model's new output; returns how many.

    Editors' work wins: a model span overlapping an editor's or imported span, or where an editor
    deleted one, is dropped. Reviewed articles are left alone unless ``include_reviewed``.
    """
    # Locked in id order, as every other verb locks one row: no deadlock with editors or workers.
    articles = list(
        Article.objects.select_for_update(of=("self",), no_key=True)
        .filter(pk__in=outputs)
        .order_by("pk")
        .only("version", "status")
    )
    if not include_reviewed:
        articles = [a for a in articles if a.status != Article.Status.REVIEWED]
    ids = [a.pk for a in articles]
    Span.objects.filter(article_id__in=ids).untouched_model_output().delete()
    kept: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for article_id, start, end in (
        Span.objects.filter(article_id__in=ids).order_by("start").values_list("article_id", "start", "end")
    ):
        kept[article_id].append((start, end))
    # An editor's deletion of a model span stands (whatever label the model proposes there next) until undone.
    deleted = set(
        SpanEvent.objects.filter(
            article_id__in=ids,
            kind=SpanEvent.Kind.DELETED,
            origin=Span.Origin.MODEL,
            actor__isnull=False,
            undone_by__isnull=True,
        ).values_list("article_id", "before_start", "before_end")
    )
    labels = Label.objects.ids()
    new = [
        (article.pk, s.start, s.end, labels[s.label])
        for article in articles
        for s in outputs[article.pk]
        if (article.pk, s.start, s.end) not in deleted and not _overlaps(kept[article.pk], s.start, s.end)
    ]
    now = timezone.now()
    versions = {article.pk: article.version + 1 for article in articles}
    Span.objects.insert_new(new, origin=Span.Origin.MODEL, now=now, model=(model_name, model_version), history=versions)
    Article.objects.filter(pk__in=ids).update(
        status=Case(When(status=Article.Status.NEW, then=Value(Article.Status.PRE_ANNOTATED)), default=F("status")),
        version=F("version") + 1,
        updated_by=None,
        updated_at=now,
        preannotated_at=now,
        preannotation_error="",
    )
    return len(new)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of these sorted, disjoint spans."""
    i = bisect.bisect_left(spans, (end,))
    return i > 0 and spans[i - 1][1] > start


@transaction.atomic
def mark_preannotation_failed(failures: Mapping[int, str]) -> None:
    for article_id, reason in failures.items():
        Article.objects.filter(pk=article_id).update(preannotation_error=reason, updated_at=timezone.now())


@transaction.atomic
def clear_preannotation_failures(article_ids: Iterable[int]) -> list[int]:
    """Returns those that had failed."""
    ids = list(Article.objects.filter(pk__in=list(article_ids)).failed_preannotation().values_list("pk", flat=True))
    Article.objects.filter(pk__in=ids).update(preannotation_error="", updated_at=timezone.now())
    return ids

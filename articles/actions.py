"""Every change to articles and spans, as named verbs.

Views, commands and tasks call these and nothing else writes spans. Each verb runs in one
transaction that first locks the article row (``select_for_update``): two editors saving at once
are serialised, so the version check below cannot pass for both and neither change is lost.
"""

import bisect
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Case, F, Max, Value, When
from django.utils import timezone

from articles.models import Article, Label, Span, SpanEvent

Kind = SpanEvent.Kind


class StaleVersion(Exception):
    """The editor worked on an older version of the article than the one stored."""

    def __init__(self, article: Article) -> None:
        self.article = article
        who = article.updated_by.get_username() if article.updated_by else "the model"
        super().__init__(
            f"This article was changed by {who} (now version {article.version}); your change was not saved."
        )


@dataclass(frozen=True)
class ModelSpan:
    start: int
    end: int
    label: str


def _lock(article_id: int, version: int | None) -> Article:
    article = Article.objects.select_for_update(of=("self",)).select_related("updated_by").get(pk=article_id)
    if version is not None and version != article.version:
        raise StaleVersion(article)
    return article


def _bump(article: Article, user: AbstractBaseUser | None) -> None:
    article.version += 1
    article.updated_by = user
    article.save(update_fields=["version", "updated_by", "updated_at"])


def _event(article: Article, span: Span, kind: str, user, before: Span | None = None, **extra) -> SpanEvent:
    after = None if kind == Kind.DELETED else span
    return SpanEvent(
        article=article,
        span_id=span.pk,
        kind=kind,
        origin=span.origin,
        actor=user,
        article_version=article.version + 1,
        before_start=before.start if before else None,
        before_end=before.end if before else None,
        before_label=before.label.name if before else "",
        after_start=after.start if after else None,
        after_end=after.end if after else None,
        after_label=after.label.name if after else "",
        **extra,
    )


def check_bounds(article: Article, start: int, end: int, *, ignore: int | None = None) -> None:
    """Friendly messages for what the database would refuse anyway."""
    if not 0 <= start < end:
        raise ValidationError(f"A span needs 0 <= start < end; got start={start}, end={end}.")
    if end > article.body_length:
        raise ValidationError(f"A span must end inside the text ({article.body_length} characters); got end={end}.")
    clash = article.spans.filter(start__lt=end, end__gt=start).exclude(pk=ignore).select_related("label").first()
    if clash:
        raise ValidationError(
            f"“{article.body[start:end]}” overlaps the {clash.label.name} span "
            f"“{clash.text}” ({clash.start}–{clash.end}); delete or resize that one first."
        )


UNKNOWN_LABEL_COLOR = "#dddddd"


def ensure_labels(names: Iterable[str]) -> list[str]:
    """Creates the labels that do not exist yet (a new model's, say); returns their names."""
    existing = set(Label.objects.values_list("name", flat=True))
    order = Label.objects.aggregate(last=Max("order"))["last"] or 0
    missing = sorted(set(names) - existing)
    Label.objects.bulk_create(
        Label(name=name, color=UNKNOWN_LABEL_COLOR, order=order + i) for i, name in enumerate(missing, 1)
    )
    return missing


def _label(name: str) -> Label:
    try:
        return Label.objects.get(name=name)
    except Label.DoesNotExist:
        raise ValidationError(f"Unknown label {name!r}.") from None


@transaction.atomic
def create_span(
    article: Article, start: int, end: int, label: str, user: AbstractBaseUser, *, version: int | None = None
) -> Span:
    article = _lock(article.pk, version)
    check_bounds(article, start, end)
    span = Span.objects.create(
        article=article,
        start=start,
        end=end,
        label=_label(label),
        origin=Span.Origin.EDITOR,
        created_by=user,
        updated_by=user,
    )
    span.article = article
    _event(article, span, Kind.CREATED, user).save()
    _bump(article, user)
    return span


def _locked_span(span: Span, version: int | None) -> tuple[Article, Span]:
    article = _lock(span.article_id, version)
    try:
        span = article.spans.select_related("label").get(pk=span.pk)
    except Span.DoesNotExist:
        raise ValidationError("That span no longer exists.") from None
    span.article = article
    return article, span


def _copy(span: Span) -> Span:
    return Span(pk=span.pk, start=span.start, end=span.end, label=span.label, origin=span.origin)


@transaction.atomic
def relabel_span(span: Span, label: str, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    article, span = _locked_span(span, version)
    before = _copy(span)
    span.label = _label(label)
    span.updated_by = user
    span.save(update_fields=["label", "updated_by", "updated_at"])
    kind = Kind.ACCEPTED if span.label_id == before.label.pk else Kind.RELABELLED
    _event(article, span, kind, user, before).save()
    _bump(article, user)
    return span


@transaction.atomic
def accept_span(span: Span, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    return relabel_span(span, span.label.name, user, version=version)


@transaction.atomic
def resize_span(span: Span, start: int, end: int, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    article, span = _locked_span(span, version)
    check_bounds(article, start, end, ignore=span.pk)
    before = _copy(span)
    span.start, span.end, span.updated_by = start, end, user
    span.save(update_fields=["start", "end", "updated_by", "updated_at"])
    _event(article, span, Kind.RESIZED, user, before).save()
    _bump(article, user)
    return span


@transaction.atomic
def delete_span(span: Span, user: AbstractBaseUser, *, version: int | None = None) -> None:
    article, span = _locked_span(span, version)
    _event(article, span, Kind.DELETED, user, _copy(span)).save()
    span.delete()
    _bump(article, user)


@transaction.atomic
def undo(article: Article, user: AbstractBaseUser, *, version: int | None = None) -> SpanEvent | None:
    """Reverts this editor's latest change on the article that is not undone yet; None if there is none."""
    article = _lock(article.pk, version)
    last = article.events.filter(actor=user, undoes__isnull=True, undone_by__isnull=True).order_by("-id").first()
    if last is None:
        return None
    if last.kind == Kind.DELETED:
        check_bounds(article, last.before_start, last.before_end)
        span = Span.objects.create(
            pk=last.span_id,
            article=article,
            start=last.before_start,
            end=last.before_end,
            label=_label(last.before_label),
            origin=last.origin,
            created_by=user if last.origin == Span.Origin.EDITOR else None,
            updated_by=user if last.origin != Span.Origin.MODEL else None,
        )
        span.article = article
        event = _event(article, span, Kind.RESTORED, user, undoes=last)
    else:
        span = article.spans.select_related("label").filter(pk=last.span_id).first()
        if span is None:
            raise ValidationError("The span of your last change was removed by someone else; nothing to undo.")
        span.article = article
        before = _copy(span)
        if last.kind == Kind.CREATED:
            event = _event(article, span, Kind.DELETED, user, before, undoes=last)
            span.delete()
        else:
            check_bounds(article, last.before_start, last.before_end, ignore=span.pk)
            span.start, span.end, span.label = last.before_start, last.before_end, _label(last.before_label)
            # A model span whose only editor change is undone is untouched model output again.
            touched = article.events.filter(span_id=span.pk, actor__isnull=False).exclude(pk=last.pk).exists()
            span.updated_by = user if touched or span.origin != Span.Origin.MODEL else None
            span.save(update_fields=["start", "end", "label", "updated_by", "updated_at"])
            event = _event(article, span, last.kind, user, before, undoes=last)
    event.save()
    _bump(article, user)
    return event


@transaction.atomic
def open_for_review(article: Article, user: AbstractBaseUser) -> Article:
    """Opening a pre-annotated article starts its review."""
    updated = Article.objects.filter(pk=article.pk, status=Article.Status.PRE_ANNOTATED).update(
        status=Article.Status.IN_REVIEW, updated_at=timezone.now()
    )
    if updated:
        article.refresh_from_db()
    return article


@transaction.atomic
def mark_reviewed(article: Article, user: AbstractBaseUser, *, version: int | None = None) -> Article:
    article = _lock(article.pk, version)
    article.status = Article.Status.REVIEWED
    article.reviewed_by = user
    article.reviewed_at = timezone.now()
    article.version += 1
    article.updated_by = user
    article.save(update_fields=["status", "reviewed_by", "reviewed_at", "version", "updated_by", "updated_at"])
    return article


def store_model_spans(article: Article, spans: Iterable[ModelSpan], model_name: str, model_version: str) -> int:
    """One article's model output; see ``store_model_output``."""
    return store_model_output({article.pk: list(spans)}, model_name, model_version)


@transaction.atomic
def store_model_output(
    outputs: Mapping[int, Sequence[ModelSpan]], model_name: str, model_version: str, *, include_reviewed: bool = False
) -> int:
    """Replaces these articles' untouched model spans with the model's new output, in a few queries
    whatever the number of articles and spans.

    Editors' work always wins: spans created, changed or accepted by an editor, imported spans, and
    the places where an editor deleted a model span stay as they are; a model span that overlaps any
    of them is dropped. Reviewed articles are left alone unless ``include_reviewed``. Returns the
    number of model spans stored.
    """
    # Locked in id order, as every other verb locks one row: no deadlock with editors or workers.
    articles = list(
        Article.objects.select_for_update(of=("self",)).filter(pk__in=outputs).order_by("pk").only("version", "status")
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
            kind=Kind.DELETED,
            origin=Span.Origin.MODEL,
            actor__isnull=False,
            undone_by__isnull=True,
        ).values_list("article_id", "before_start", "before_end")
    )
    labels = dict(Label.objects.values_list("name", "pk"))
    new = [
        (article, s)
        for article in articles
        for s in outputs[article.pk]
        if (article.pk, s.start, s.end) not in deleted and not _overlaps(kept[article.pk], s.start, s.end)
    ]
    # A batch brings thousands of spans: COPY them, with ids taken beforehand for their history rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Span._meta.db_table, len(new)],
        )
        span_ids = [row[0] for row in cursor.fetchall()]
    now = timezone.now()
    _copy_in(
        Span,
        ["id", "article", "start", "end", "label", "origin", "model_name", "model_version", "created_at", "updated_at"],
        (
            (
                span_id,
                article.pk,
                s.start,
                s.end,
                labels[s.label],
                Span.Origin.MODEL,
                model_name,
                model_version,
                now,
                now,
            )
            for span_id, (article, s) in zip(span_ids, new, strict=True)
        ),
    )
    _copy_in(
        SpanEvent,
        ["article", "span_id", "kind", "origin", "at", "article_version", "before_label"]
        + ["after_start", "after_end", "after_label"],
        (
            (
                article.pk,
                span_id,
                Kind.CREATED,
                Span.Origin.MODEL,
                now,
                article.version + 1,
                "",
                s.start,
                s.end,
                s.label,
            )
            for span_id, (article, s) in zip(span_ids, new, strict=True)
        ),
    )
    Article.objects.filter(pk__in=ids).update(
        status=Case(When(status=Article.Status.NEW, then=Value(Article.Status.PRE_ANNOTATED)), default=F("status")),
        version=F("version") + 1,
        updated_by=None,
        updated_at=now,
        preannotated_at=now,
        preannotation_error="",
    )
    return len(new)


def _copy_in(model: type[models.Model], fields: list[str], rows: Iterable[tuple]) -> None:
    """Inserts rows with PostgreSQL's COPY (the columns left out get NULL)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(model._meta.get_field(name).column) for name in fields)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of these sorted, disjoint spans."""
    i = bisect.bisect_left(spans, (end,))
    return i > 0 and spans[i - 1][1] > start


@transaction.atomic
def mark_preannotation_failed(failures: Mapping[int, str]) -> None:
    """Sets these articles aside with the reason the model could not process them."""
    for article_id, reason in failures.items():
        Article.objects.filter(pk=article_id).update(preannotation_error=reason, updated_at=timezone.now())


@transaction.atomic
def clear_preannotation_failures(article_ids: Iterable[int]) -> list[int]:
    """Makes failed articles pending again (for a retry); returns those that had failed."""
    ids = list(Article.objects.filter(pk__in=list(article_ids)).failed_preannotation().values_list("pk", flat=True))
    Article.objects.filter(pk__in=ids).update(preannotation_error="", updated_at=timezone.now())
    return ids

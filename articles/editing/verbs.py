"""Every change an editor makes to spans, as named verbs: nothing else writes an editor's spans.

Each verb runs in one transaction that first locks its scope and asks the gate (``scope.lock``).
"""

from typing import NamedTuple

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.editing import propagation, tokens
from articles.editing.refusals import NotNow
from articles.editing.scope import (
    ROW_FIELDS,
    AnySpan,
    Kind,
    Overlaps,
    Scope,
    StaleVersion,
    clashing,
    copy,
    label,
    lock,
    locked_span,
    relabels,
)
from articles.models import Annotation, Article, Decision, Label, Span, SpanEvent

__all__ = ["Overlaps", "StaleVersion"]  # refusals the views answer

# A bulk change holds the article's lock while it writes: bounded, so another editor never waits long.
EVERYWHERE_MAX = 1_000
ACCEPT_ALL_MAX = 1_000


def _offer(span: AnySpan, user: User) -> None:
    # An editor's own version stays their own: only the article's spans are offered elsewhere.
    if isinstance(span, Span):
        propagation.offer(span, user)


def create_span(
    where: Article | Annotation,
    start: int,
    end: int,
    label_name: str,
    user: User,
    *,
    version: int | None = None,
    whole_tokens: bool = False,
    replace: bool = False,
) -> AnySpan:
    """``whole_tokens`` snaps a selection to words (``tokens.snap``); ``replace`` deletes the spans it
    overlaps in the same change, else an overlap is refused (``Overlaps``).

    The text is offered elsewhere only after the transaction, so the search never holds this lock.
    """
    span = _create_span(where, start, end, label_name, user, version, whole_tokens, replace)
    _offer(span, user)
    return span


@transaction.atomic
def _create_span(
    where: Article | Annotation,
    start: int,
    end: int,
    label_name: str,
    user: User,
    version: int | None,
    whole_tokens: bool,
    replace: bool,
) -> AnySpan:
    scope = lock(where, version, user)
    if whole_tokens:
        start, end = tokens.snap(scope.article.body, start, end)
    replaced: list[AnySpan] = []
    if replace:
        for other in scope.spans.filter(start__lt=end, end__gt=start).select_related("label"):
            replaced.append(copy(other))
            scope.event(other, Kind.DELETED, user, copy(other)).save()
            propagation.withdraw(other)
            other.delete()
    scope.check_bounds(start, end)
    span = scope.new_span(
        start=start, end=end, label=label(label_name), origin=Span.Origin.EDITOR, created_by=user, updated_by=user
    )
    span.save()
    span.replaced = replaced  # type: ignore[union-attr]  # for the caller's answer, not a column
    scope.event(span, Kind.CREATED, user).save()
    scope.bump(user)
    return span


def relabel_span(span: AnySpan, label_name: str, user: User, *, version: int | None = None) -> AnySpan:
    """Offers the new label elsewhere after the transaction, as ``create_span`` does."""
    with transaction.atomic():
        scope, span = locked_span(span, version, user)
        before = span.label_id
        span = _relabel(scope, span, label_name, user)
        if span.label_id != before:
            propagation.withdraw(span)
    if span.label_id != before:
        _offer(span, user)
    return span


def _relabel(scope: Scope, span: AnySpan, label_name: str, user: User) -> AnySpan:
    before = copy(span)
    span.label = label(label_name)
    span.previous_label_id = before.label.pk  # type: ignore[union-attr]  # for the caller's answer, not a column
    span.updated_by = user
    span.save(update_fields=["label", "updated_by", "updated_at"])
    kind = Kind.ACCEPTED if span.label_id == before.label.pk else Kind.RELABELLED
    scope.event(span, kind, user, before).save()
    scope.bump(user)
    return span


@transaction.atomic
def accept_span(span: AnySpan, user: User, *, version: int | None = None) -> AnySpan:
    scope, span = locked_span(span, version, user)
    return _relabel(scope, span, span.label.name, user)


@transaction.atomic
def resize_span(span: AnySpan, start: int, end: int, user: User, *, version: int | None = None) -> AnySpan:
    scope, span = locked_span(span, version, user)
    scope.check_bounds(start, end, ignore=span.pk)
    before = copy(span)
    propagation.withdraw(span)
    span.start, span.end, span.updated_by = start, end, user
    span.save(update_fields=["start", "end", "updated_by", "updated_at"])
    scope.event(span, Kind.RESIZED, user, before).save()
    scope.bump(user)
    return span


@transaction.atomic
def delete_span(span: AnySpan, user: User, *, version: int | None = None) -> AnySpan:
    """Returns the span as it was, with its article."""
    scope, span = locked_span(span, version, user)
    gone = copy(span)
    gone.article = scope.article
    scope.event(span, Kind.DELETED, user, gone).save()
    propagation.withdraw(span)
    span.delete()
    scope.bump(user)
    return gone


class Reverted(NamedTuple):
    event: SpanEvent  # the event that reverts it
    undone: SpanEvent
    span: AnySpan | None  # as the undo left it; None where it is gone again


def undo(where: Article | Annotation, user: User, *, version: int | None = None) -> list[Reverted]:
    """Reverts this editor's latest change here, all of its spans, and withdraws what it offered."""
    reverted = _undo(where, user, version=version)
    for step in reverted:
        if step.undone.kind == Kind.RELABELLED and step.span is not None:
            _offer(step.span, user)
    return reverted


@transaction.atomic
def _undo(where: Article | Annotation, user: User, *, version: int | None) -> list[Reverted]:
    scope = lock(where, version, user)
    mine = scope.events.filter(actor=user, undoes__isnull=True, undone_by__isnull=True)
    if scope.annotation is None and scope.article.adjudication_version is not None:
        # What both versions agreed on, copied as adjudication began, is not a change to undo.
        mine = mine.filter(article_version__gt=scope.article.adjudication_version)
    last = mine.order_by("-id").first()
    if last is None:
        return []
    # Every event of one change carries the version the change gave its scope.
    reverted = [
        _revert(scope, undone, user) for undone in mine.filter(article_version=last.article_version).order_by("-id")
    ]
    for step in reverted:
        if step.undone.kind in (Kind.CREATED, Kind.RELABELLED) and scope.annotation is None:
            propagation.withdraw(step.undone.span_id)
    if scope.annotation is None:
        # A reviewer's decision undone with its spans: the disagreement is open again, not "settled".
        Decision.objects.filter(article=scope.article, article_version=last.article_version).delete()
    scope.bump(user)
    return reverted


def _before(event: SpanEvent) -> tuple[int, int]:
    """Every kind of event but a creation records where its span was before it."""
    if event.before_start is None or event.before_end is None:
        raise ValueError(f"{event} records no place before it")
    return event.before_start, event.before_end


def _revert(scope: Scope, last: SpanEvent, user: User) -> Reverted:
    span: AnySpan | None
    if last.kind == Kind.DELETED:
        start, end = _before(last)
        scope.check_bounds(start, end)
        span = scope.new_span(
            pk=last.span_id,
            start=start,
            end=end,
            label=label(last.before_label),
            origin=last.origin,
            created_by=user if last.origin == Span.Origin.EDITOR else None,
            updated_by=user if last.origin != Span.Origin.MODEL else None,
        )
        span.save(force_insert=True)
        event = scope.event(span, Kind.RESTORED, user, undoes=last)
    else:
        span = scope.spans.select_related("label").filter(pk=last.span_id).first()
        if span is None:
            raise ValidationError(_("The span of your last change was removed by someone else; nothing to undo."))
        span.article = scope.article
        before = copy(span)
        if last.kind == Kind.CREATED:
            event = scope.event(span, Kind.DELETED, user, before, undoes=last)
            span.delete()
            span = None
        else:
            start, end = _before(last)
            scope.check_bounds(start, end, ignore=span.pk)
            span.start, span.end, span.label = start, end, label(last.before_label)
            # A model span whose only editor change is undone is untouched model output again.
            touched = scope.events.filter(span_id=span.pk, actor__isnull=False).exclude(pk=last.pk).exists()
            span.updated_by = user if touched or span.origin != Span.Origin.MODEL else None
            span.save(update_fields=["start", "end", "label", "updated_by", "updated_at"])
            event = scope.event(span, last.kind, user, before, undoes=last)
    event.save()
    return Reverted(event, last, span)


@transaction.atomic
def mark_reviewed(
    where: Article | Annotation, user: User, *, version: int | None = None, adjudicated: bool = False
) -> Article:
    """The article is reviewed, or an editor's version finished. An article annotated twice is
    reviewed only by ``review.adjudication.finish`` (``adjudicated``)."""
    scope = lock(where, version, user)
    if scope.annotation is None and scope.article.double and not adjudicated:
        raise NotNow(_("This article was annotated twice: finish its adjudication on the adjudication page."))
    if scope.annotation is not None:
        scope.annotation.finished_at = timezone.now()
        scope.annotation.version += 1
        scope.annotation.save(update_fields=["finished_at", "version", "updated_at"])
        return scope.article
    article = scope.article
    article.status = Article.Status.REVIEWED
    article.reviewed_by = user
    article.reviewed_at = timezone.now()
    article.version += 1
    article.updated_by = user
    article.save(update_fields=["status", "reviewed_by", "reviewed_at", "version", "updated_by", "updated_at"])
    article.release_lease()
    return article


@transaction.atomic
def label_all_occurrences(span: AnySpan, user: User, *, version: int | None = None) -> list[AnySpan]:
    """Gives every other whole-word occurrence of the span's text its label. An untouched model span
    of that text is relabelled; places overlapping other spans are skipped."""
    scope, span = locked_span(span, version, user)
    body = scope.article.body
    text = body[span.start : span.end]
    places = []
    for place in tokens.whole_occurrences(body, text):
        places.append(place)
        if len(places) > EVERYWHERE_MAX:
            raise ValidationError(
                _(
                    "“%(text)s” occurs more than %(max)s times in this article: label everywhere changes at "
                    "most %(max)s places at once. Label them by hand, or choose a longer text."
                )
                % {"text": text[:80], "max": f"{EVERYWHERE_MAX:,}"}
            )
    # Plain rows, not models: a long article has tens of thousands of spans.
    others = list(scope.spans.exclude(pk=span.pk).order_by("start").values_list(*ROW_FIELDS))
    labels = {span.label_id: span.label}
    new: list[AnySpan] = []
    relabelled: list[tuple[AnySpan, AnySpan]] = []  # (after, before)
    for start, end in places:
        if (start, end) == (span.start, span.end):
            continue
        clashes = clashing(others, start, end)
        if not clashes:
            new.append(
                scope.new_span(
                    start=start, end=end, label=span.label, origin=Span.Origin.EDITOR, created_by=user, updated_by=user
                )
            )
            continue
        if relabels(clashes, start, end, span.label_id):
            pk, _start, _end, label_id, origin, _editor = clashes[0]
            if label_id not in labels:
                labels[label_id] = Label.objects.get(pk=label_id)
            before = scope.model(pk=pk, start=start, end=end, label=labels[label_id], origin=origin)
            after = scope.new_span(pk=pk, start=start, end=end, label=span.label, origin=origin, updated_by=user)
            relabelled.append((after, before))
    if not new and not relabelled:
        return []
    now = timezone.now()
    scope.model.objects.bulk_create(new)  # type: ignore[arg-type]  # each made by scope.new_span, of scope.model
    scope.model.objects.filter(pk__in=[model.pk for model, _ in relabelled]).update(
        label=span.label, updated_by=user, updated_at=now
    )
    SpanEvent.objects.bulk_create(
        [scope.event(s, Kind.CREATED, user) for s in new]
        + [scope.event(model, Kind.RELABELLED, user, before) for model, before in relabelled]
    )
    scope.bump(user)
    return new + [model for model, _ in relabelled]


@transaction.atomic
def accept_all(where: Article | Annotation, user: User, *, version: int | None = None) -> list[AnySpan]:
    """Confirms the first ``ACCEPT_ALL_MAX`` untouched model spans, in text order."""
    scope = lock(where, version, user)
    spans: list[AnySpan] = list(
        scope.spans.untouched_model_output().order_by("start").select_related("label")[:ACCEPT_ALL_MAX]
    )
    if not spans:
        return []
    for span in spans:
        span.article, span.updated_by = scope.article, user
    # Spans are apart, so the first ones in text order are those up to the last start.
    scope.spans.untouched_model_output().filter(start__lte=spans[-1].start).update(
        updated_by=user, updated_at=timezone.now()
    )
    SpanEvent.objects.bulk_create(scope.event(s, Kind.ACCEPTED, user, copy(s)) for s in spans)
    scope.bump(user)
    return spans

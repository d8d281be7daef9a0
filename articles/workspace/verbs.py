"""Every change an editor makes to an article's spans, as named verbs.

Views, commands and tasks call these; nothing else writes an editor's spans. Each verb runs in one
transaction that first locks the article row (``select_for_update``): two editors saving at once
are serialised, so the version check below cannot pass for both and neither change is lost.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.models import LEASE, Article, Label, Span, SpanEvent
from articles.queue.leases import release_lease
from articles.workspace import propagation, tokens

Kind = SpanEvent.Kind


class StaleVersion(Exception):
    """The editor worked on an older version of the article than the one stored."""

    def __init__(self, article: Article) -> None:
        self.article = article
        who = article.updated_by.get_username() if article.updated_by else _("the model")
        super().__init__(
            _("This article was changed by %(who)s (now version %(version)s); your change was not saved.")
            % {"who": who, "version": article.version}
        )


def lock_article(article_id: int, version: int | None) -> Article:
    """The article, locked until the transaction ends; StaleVersion if ``version`` is not its own."""
    # FOR NO KEY UPDATE: it serialises the verbs on this article, yet lets other transactions insert
    # rows that refer to it (their foreign-key check takes KEY SHARE, which plain FOR UPDATE blocks).
    article = (
        Article.objects.select_for_update(of=("self",), no_key=True).select_related("updated_by").get(pk=article_id)
    )
    if version is not None and version != article.version:
        raise StaleVersion(article)
    return article


def _bump(article: Article, user: AbstractBaseUser | None) -> None:
    article.version += 1
    article.updated_by = user
    fields = ["version", "updated_by", "updated_at"]
    # An editor working on the article keeps it (or takes it, when no one else has it open).
    if user is not None and not article.open_by_other_than(user):
        article.leased_by, article.leased_until = user, timezone.now() + LEASE
        fields += ["leased_by", "leased_until"]
    article.save(update_fields=fields)


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


class Overlaps(ValidationError):
    """A span would overlap others: refused, and the editor may replace them with it instead."""

    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.start, self.end = start, end


def check_bounds(article: Article, start: int, end: int, *, ignore: int | None = None) -> None:
    """Friendly messages for what the database would refuse anyway."""
    if not 0 <= start < end:
        raise ValidationError(
            _("A span needs 0 <= start < end; got start=%(start)s, end=%(end)s.") % {"start": start, "end": end}
        )
    if end > article.body_length:
        raise ValidationError(
            _("A span must end inside the text (%(length)s characters); got end=%(end)s.")
            % {"length": article.body_length, "end": end}
        )
    clash = article.spans.filter(start__lt=end, end__gt=start).exclude(pk=ignore).select_related("label").first()
    if clash:
        raise Overlaps(
            _(
                "“%(text)s” overlaps the %(label)s span “%(other)s” (%(start)s–%(end)s); "
                "delete or resize that one first."
            )
            % {
                "text": article.body[start:end],
                "label": clash.label.name,
                "other": clash.text,
                "start": clash.start,
                "end": clash.end,
            },
            start,
            end,
        )


def _label(name: str) -> Label:
    try:
        return Label.objects.get(name=name)
    except Label.DoesNotExist:
        raise ValidationError(_("Unknown label %(name)r.") % {"name": name}) from None


def create_span(
    article: Article,
    start: int,
    end: int,
    label: str,
    user: AbstractBaseUser,
    *,
    version: int | None = None,
    whole_tokens: bool = False,
    replace: bool = False,
) -> Span:
    """With ``whole_tokens``, start:end is an editor's selection: it is widened to the words it
    touches and stripped of surrounding spaces and punctuation first (see ``tokens.snap``). With
    ``replace``, the spans it overlaps are deleted first, in the same change; without, an overlap
    is refused (``Overlaps``).

    The same text elsewhere is offered once the change is saved and the article let go (see
    ``propagation.offer``): the search reaches into other articles and must not keep this one locked.
    The span's ``replaced`` lists the spans it replaced, as they were.
    """
    span = _create_span(article, start, end, label, user, version=version, whole_tokens=whole_tokens, replace=replace)
    propagation.offer(span, user)
    return span


@transaction.atomic
def _create_span(
    article: Article,
    start: int,
    end: int,
    label: str,
    user: AbstractBaseUser,
    *,
    version: int | None,
    whole_tokens: bool,
    replace: bool,
) -> Span:
    article = lock_article(article.pk, version)
    if whole_tokens:
        start, end = tokens.snap(article.body, start, end)
    replaced = []
    if replace:
        for other in article.spans.filter(start__lt=end, end__gt=start).select_related("label"):
            replaced.append(_copy(other))
            _event(article, other, Kind.DELETED, user, _copy(other)).save()
            other.delete()
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
    span.article, span.replaced = article, replaced
    _event(article, span, Kind.CREATED, user).save()
    _bump(article, user)
    return span


def _locked_span(span: Span, version: int | None) -> tuple[Article, Span]:
    article = lock_article(span.article_id, version)
    try:
        span = article.spans.select_related("label").get(pk=span.pk)
    except Span.DoesNotExist:
        raise ValidationError(
            _("Span %(span)s is not part of article %(article)s (it may have been deleted).")
            % {"span": span.pk, "article": article.pk}
        ) from None
    span.article = article
    return article, span


def _copy(span: Span) -> Span:
    return Span(pk=span.pk, start=span.start, end=span.end, label=span.label, origin=span.origin)


def relabel_span(span: Span, label: str, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    """The new label is offered elsewhere once the change is saved (as with ``create_span``). The span
    returned keeps the label it had as ``previous_label_id``."""
    with transaction.atomic():
        article, span = _locked_span(span, version)
        before = span.label_id
        span = _relabel(article, span, label, user)
    if span.label_id != before:
        propagation.offer(span, user)
    return span


def _relabel(article: Article, span: Span, label: str, user: AbstractBaseUser) -> Span:
    before = _copy(span)
    span.label, span.previous_label_id = _label(label), before.label.pk
    span.updated_by = user
    span.save(update_fields=["label", "updated_by", "updated_at"])
    kind = Kind.ACCEPTED if span.label_id == before.label.pk else Kind.RELABELLED
    _event(article, span, kind, user, before).save()
    _bump(article, user)
    return span


@transaction.atomic
def accept_span(span: Span, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    article, span = _locked_span(span, version)
    return _relabel(article, span, span.label.name, user)


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
def delete_span(span: Span, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    """Returns the span as it was, with its article."""
    article, span = _locked_span(span, version)
    gone = _copy(span)
    gone.article = article
    _event(article, span, Kind.DELETED, user, gone).save()
    span.delete()
    _bump(article, user)
    return gone


def undo(article: Article, user: AbstractBaseUser, *, version: int | None = None) -> list[SpanEvent]:
    """Reverts this editor's latest change on the article that is not undone yet, all of it (a
    change may touch several spans: label all occurrences, accept the rest, a replacement); returns
    the events that revert it, none if there is nothing to undo.

    The suggestions the change offered elsewhere and that are still pending are withdrawn; a
    relabelled entity's previous label is offered again once the undo is saved.
    """
    events = _undo(article, user, version=version)
    for event in events:
        undone = event.undoes
        if undone.kind in (Kind.CREATED, Kind.RELABELLED):
            propagation.withdraw(undone.span_id, undone.after_label)
        if undone.kind == Kind.RELABELLED and event.span is not None:
            propagation.offer(event.span, user)
    return events


@transaction.atomic
def _undo(article: Article, user: AbstractBaseUser, *, version: int | None) -> list[SpanEvent]:
    article = lock_article(article.pk, version)
    mine = article.events.filter(actor=user, undoes__isnull=True, undone_by__isnull=True)
    last = mine.order_by("-id").first()
    if last is None:
        return []
    # Every event of one change carries the version the change gave the article.
    events = [
        _revert(article, undone, user) for undone in mine.filter(article_version=last.article_version).order_by("-id")
    ]
    _bump(article, user)
    return events


def _revert(article: Article, last: SpanEvent, user: AbstractBaseUser) -> SpanEvent:
    """Undoes one event: the span as it was before it. The event returned keeps the span, or None
    where the span is gone again, as ``span``."""
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
            raise ValidationError(_("The span of your last change was removed by someone else; nothing to undo."))
        span.article = article
        before = _copy(span)
        if last.kind == Kind.CREATED:
            event = _event(article, span, Kind.DELETED, user, before, undoes=last)
            span.delete()
            span = None
        else:
            check_bounds(article, last.before_start, last.before_end, ignore=span.pk)
            span.start, span.end, span.label = last.before_start, last.before_end, _label(last.before_label)
            # A model span whose only editor change is undone is untouched model output again.
            touched = article.events.filter(span_id=span.pk, actor__isnull=False).exclude(pk=last.pk).exists()
            span.updated_by = user if touched or span.origin != Span.Origin.MODEL else None
            span.save(update_fields=["start", "end", "label", "updated_by", "updated_at"])
            event = _event(article, span, last.kind, user, before, undoes=last)
    event.save()
    event.span = span
    return event


@transaction.atomic
def mark_reviewed(article: Article, user: AbstractBaseUser, *, version: int | None = None) -> Article:
    article = lock_article(article.pk, version)
    article.status = Article.Status.REVIEWED
    article.reviewed_by = user
    article.reviewed_at = timezone.now()
    article.version += 1
    article.updated_by = user
    article.save(update_fields=["status", "reviewed_by", "reviewed_at", "version", "updated_by", "updated_at"])
    # A reviewed article leaves the queue: whoever had it open no longer holds it.
    release_lease(article)
    return article


@transaction.atomic
def label_all_occurrences(span: Span, user: AbstractBaseUser, *, version: int | None = None) -> list[Span]:
    """Gives every other whole-word occurrence of the span's text the span's label.

    An untouched model span of exactly that text with another label is relabelled (recorded as
    relabelled); other places that overlap an existing span are skipped; each new span is recorded
    as created. Returns the spans created and relabelled.
    """
    article, span = _locked_span(span, version)
    text, body = span.text, article.body
    others = list(article.spans.exclude(pk=span.pk).select_related("label"))
    taken = [(span.start, span.end)] + [(other.start, other.end) for other in others]
    at = {(other.start, other.end): other for other in others}
    new, relabelled = [], []
    for start, end in tokens.whole_occurrences(body, text):
        model = at.get((start, end))
        if (
            model
            and model.origin == Span.Origin.MODEL
            and model.updated_by_id is None
            and model.label_id != span.label_id
        ):
            before = _copy(model)
            model.label, model.updated_by, model.updated_at = span.label, user, timezone.now()
            relabelled.append((model, before))
            continue
        if any(start < e and s < end for s, e in taken):
            continue
        new.append(
            Span(
                article=article,
                start=start,
                end=end,
                label=span.label,
                origin=Span.Origin.EDITOR,
                created_by=user,
                updated_by=user,
            )
        )
        taken.append((start, end))
    if not new and not relabelled:
        return []
    Span.objects.bulk_create(new)
    Span.objects.bulk_update([model for model, _ in relabelled], ["label", "updated_by", "updated_at"])
    SpanEvent.objects.bulk_create(
        [_event(article, s, Kind.CREATED, user) for s in new]
        + [_event(article, model, Kind.RELABELLED, user, before) for model, before in relabelled]
    )
    _bump(article, user)
    return new + [model for model, _ in relabelled]


@transaction.atomic
def accept_all(article: Article, user: AbstractBaseUser, *, version: int | None = None) -> list[Span]:
    """Confirms every untouched model span of the article as it is (each recorded as accepted);
    returns them."""
    article = lock_article(article.pk, version)
    spans = list(article.spans.untouched_model_output().select_related("label"))
    if not spans:
        return []
    for span in spans:
        span.article, span.updated_by = article, user
    Span.objects.filter(pk__in=[s.pk for s in spans]).update(updated_by=user, updated_at=timezone.now())
    SpanEvent.objects.bulk_create(_event(article, s, Kind.ACCEPTED, user, _copy(s)) for s in spans)
    _bump(article, user)
    return spans

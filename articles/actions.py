"""Every change to articles and spans, as named verbs.

Views, commands and tasks call these and nothing else writes spans. Each verb runs in one
transaction that first locks the article row (``select_for_update``): two editors saving at once
are serialised, so the version check below cannot pass for both and neither change is lost.
"""

import bisect
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import OperationalError, connection, transaction
from django.db.models import Case, F, Max, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from articles import tokens
from articles.models import LEASE, Article, Label, Span, SpanEvent, Suggestion

log = logging.getLogger(__name__)
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


@dataclass(frozen=True)
class ModelSpan:
    start: int
    end: int
    label: str


def _lock(article_id: int, version: int | None) -> Article:
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
        raise ValidationError(
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
            }
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
) -> Span:
    """With ``whole_tokens``, start:end is an editor's selection: it is widened to the words it
    touches and stripped of surrounding spaces and punctuation first (see ``tokens.snap``).

    The same text elsewhere is offered once the change is saved and the article let go (see
    ``_offer_elsewhere``): the search reaches into other articles and must not keep this one locked.
    """
    span = _create_span(article, start, end, label, user, version=version, whole_tokens=whole_tokens)
    _offer_elsewhere(span, user)
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
) -> Span:
    article = _lock(article.pk, version)
    if whole_tokens:
        start, end = tokens.snap(article.body, start, end)
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
        raise ValidationError(
            _("Span %(span)s is not part of article %(article)s (it may have been deleted).")
            % {"span": span.pk, "article": article.pk}
        ) from None
    span.article = article
    return article, span


def _copy(span: Span) -> Span:
    return Span(pk=span.pk, start=span.start, end=span.end, label=span.label, origin=span.origin)


def relabel_span(span: Span, label: str, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    """The new label is offered elsewhere once the change is saved (as with ``create_span``)."""
    with transaction.atomic():
        article, span = _locked_span(span, version)
        before = span.label_id
        span = _relabel(article, span, label, user)
    if span.label_id != before:
        _offer_elsewhere(span, user)
    return span


def _relabel(article: Article, span: Span, label: str, user: AbstractBaseUser) -> Span:
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
            raise ValidationError(_("The span of your last change was removed by someone else; nothing to undo."))
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


def open_for_review(article: Article, user: AbstractBaseUser) -> Article:
    """Opening a pre-annotated article starts its review; the editor takes or renews its lease.

    Two single-row updates, each atomic by itself: neither needs the other to have happened.
    """
    if article.status == Article.Status.PRE_ANNOTATED:
        updated = Article.objects.filter(pk=article.pk, status=Article.Status.PRE_ANNOTATED).update(
            status=Article.Status.IN_REVIEW, updated_at=timezone.now()
        )
        if updated:
            article.refresh_from_db()
    renew_lease(article, user)
    return article


def renew_lease(article: Article, user: AbstractBaseUser) -> bool:
    """Keeps the article out of other editors' "next article" for LEASE from now, unless another
    editor holds it; False then. A lease is not an edit: neither version nor updated_at change."""
    until = timezone.now() + LEASE
    renewed = Article.objects.filter(pk=article.pk).free_for(user).update(leased_by=user, leased_until=until)
    if renewed:
        article.leased_by, article.leased_until = user, until
    return bool(renewed)


def release_lease(article: Article, user: AbstractBaseUser | None = None) -> bool:
    """Gives the article back to the queue: ``user``'s lease on it, or anyone's when None."""
    leases = Article.objects.filter(pk=article.pk, leased_by__isnull=False)
    if user is not None:
        leases = leases.filter(leased_by=user)
    released = leases.update(leased_by=None, leased_until=None)
    if released:
        article.leased_by, article.leased_until = None, None
    return bool(released)


@transaction.atomic
def lease_next(user: AbstractBaseUser, *, after_id: int | None = None) -> Article | None:
    """Leases to ``user`` the next article needing review that no other editor has open: the first
    after ``after_id`` in queue order (oldest first), wrapping around, never ``after_id`` itself
    (the editor is leaving it). None when there is none. The editor gives back any article they
    held: one lease per editor, so an article left for the next one returns to the queue at once.

    The candidate is claimed with SELECT ... FOR UPDATE SKIP LOCKED: two editors asking at the same
    moment lock different rows instead of both reading the same free one (and neither waits for the
    other), so they never get the same article. The lease is written before the lock is released.
    """
    Article.objects.filter(leased_by=user).update(leased_by=None, leased_until=None)
    candidates = (
        Article.objects.needs_review()
        .free_for(user)
        .select_for_update(skip_locked=True, of=("self",), no_key=True)
        .only("pk")
        .order_by("pk")
    )
    if after_id is not None:
        candidates = candidates.exclude(pk=after_id)
        article = candidates.filter(pk__gt=after_id).first() or candidates.first()
    else:
        article = candidates.first()
    if article is not None:
        renew_lease(article, user)
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
    # A reviewed article leaves the queue: whoever had it open no longer holds it.
    release_lease(article)
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
    now = timezone.now()
    _insert_model_spans(new, labels, model_name, model_version, now)
    Article.objects.filter(pk__in=ids).update(
        status=Case(When(status=Article.Status.NEW, then=Value(Article.Status.PRE_ANNOTATED)), default=F("status")),
        version=F("version") + 1,
        updated_by=None,
        updated_at=now,
        preannotated_at=now,
        preannotation_error="",
    )
    return len(new)


# A batch brings thousands of spans: one statement stores them and their history rows, with the
# rows sent as one array per column.
INSERT_MODEL_SPANS = """
WITH new AS (
    INSERT INTO articles_span (article_id, start, "end", label_id, origin, model_name, model_version,
                               created_at, updated_at)
    SELECT article_id, start, "end", label_id, %(origin)s, %(name)s, %(version)s, %(now)s, %(now)s
    FROM unnest(%(articles)s::bigint[], %(starts)s::integer[], %(ends)s::integer[], %(labels)s::bigint[])
        AS s(article_id, start, "end", label_id)
    RETURNING id, article_id, start, "end", label_id
)
INSERT INTO articles_spanevent (article_id, span_id, kind, origin, at, article_version, before_label,
                                after_start, after_end, after_label, model)
SELECT new.article_id, new.id, %(kind)s, %(origin)s, %(now)s, v.version, '', new.start, new."end", l.name, %(model)s
FROM new
JOIN articles_label l ON l.id = new.label_id
JOIN unnest(%(version_of)s::bigint[], %(versions)s::integer[]) AS v(article_id, version) USING (article_id)
"""


def _insert_model_spans(
    new: list[tuple[Article, ModelSpan]], labels: dict[str, int], model_name: str, model_version: str, now: datetime
) -> None:
    """The model's spans, and their "created" history rows at the articles' next version."""
    if not new:
        return
    versions = {article.pk: article.version + 1 for article, _ in new}
    with connection.cursor() as cursor:
        cursor.execute(
            INSERT_MODEL_SPANS,
            {
                "articles": _integers(article.pk for article, _ in new),
                "starts": _integers(s.start for _, s in new),
                "ends": _integers(s.end for _, s in new),
                "labels": _integers(labels[s.label] for _, s in new),
                "version_of": _integers(versions),
                "versions": _integers(versions.values()),
                "origin": Span.Origin.MODEL,
                "kind": Kind.CREATED,
                "name": model_name,
                "version": model_version,
                "model": f"{model_name} {model_version}",
                "now": now,
            },
        )


def _integers(values: Iterable[int]) -> str:
    """Integers as a PostgreSQL array literal, for a parameter cast to an array type. psycopg would
    build the text of a list element by element in Python: storing a batch would take a worker a
    fifth longer."""
    return "{" + ",".join(map(str, values)) + "}"


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


@dataclass(frozen=True)
class ImportedSpan:
    article: Article
    start: int
    end: int
    label: str


@transaction.atomic
def add_imported_spans(spans: Iterable[ImportedSpan], user: AbstractBaseUser | None) -> int:
    """Stores the spans that came with articles being imported, as origin ``import``; returns how many.

    Set-based, for imports of a million spans: the importer creates the articles in the same
    transaction, so no other transaction can see them yet and there is no row to lock or version to
    check. The history records who imported them on the article's batch, not as the actor: an
    editor's undo walks back their own changes only, never the import.
    """
    spans = list(spans)
    labels = {label.name: label for label in Label.objects.filter(name__in={s.label for s in spans})}
    rows = Span.objects.bulk_create(
        [
            Span(
                article=s.article,
                start=s.start,
                end=s.end,
                label=labels[s.label],
                origin=Span.Origin.IMPORT,
                created_by=user,
            )
            for s in spans
        ],
        batch_size=5000,
    )
    SpanEvent.objects.bulk_create(
        [
            SpanEvent(
                article=span.article,
                span_id=span.pk,
                kind=Kind.CREATED,
                origin=Span.Origin.IMPORT,
                actor=None,
                article_version=span.article.version,
                after_start=span.start,
                after_end=span.end,
                after_label=span.label.name,
            )
            for span in rows
        ],
        batch_size=5000,
    )
    return len(rows)


# pg_trgm's index needs three characters to narrow the search; shorter texts are not propagated.
PROPAGATION_MIN_LENGTH = 3
# An editor's click must stay fast whatever the corpus: offer the text in this many articles at most.
PROPAGATION_MAX_ARTICLES = 500


def _offer_elsewhere(span: Span, user: AbstractBaseUser | None) -> None:
    """Propagation is a hint: it runs in a worker (SUGGESTIONS_IN_BACKGROUND), so an editor's change
    never waits for a search through the corpus. The task is queued in the same transaction as
    the change when there is one, so it exists exactly when the change does."""
    if settings.SUGGESTIONS_IN_BACKGROUND:
        from articles import tasks  # tasks imports this module

        tasks.offer_elsewhere.enqueue(span.pk, user.pk if user else None)
    else:
        offer_elsewhere_now(span, user)


def offer_elsewhere_now(span: Span, user: AbstractBaseUser | None) -> int:
    """Propagates an editor's entity, as a hint that never costs the editor's change: two
    propagations at once into the same places can deadlock on the suggestions' unique index, and
    PostgreSQL then cancels one. Here only the propagation is rolled back (a savepoint) and logged.
    Returns the number of suggestions offered."""
    try:
        with transaction.atomic():
            return propagate(span, user)
    except OperationalError as error:
        log.warning("Suggestions for span %s were not offered: %s", span.pk, error)
        return 0


def propagate(span: Span, user: AbstractBaseUser | None) -> int:
    """Offers the span's text with its label wherever else it occurs, as a whole word, in articles not
    reviewed yet; returns the number of suggestions offered.

    PostgreSQL finds the articles (``LIKE`` through the trigram index on the search table's copies of
    the bodies); Python only locates
    the occurrences inside those few. A place already holding a span is skipped, except an untouched
    model span of exactly that text with another label, which accepting the suggestion relabels.
    """
    text = span.article.body[span.start : span.end]
    if len(text.strip()) < PROPAGATION_MIN_LENGTH:
        return 0
    candidates = list(
        Article.objects.exclude(status=Article.Status.REVIEWED)
        .filter(search__body__contains=text)
        # No ordering: the first matches the index yields will do, without sorting every match of a common name.
        .order_by()
        .values_list("id", "body")[:PROPAGATION_MAX_ARTICLES]
    )
    ids = [pk for pk, _ in candidates]
    taken: dict[int, list[Span]] = {}
    fields = ["article_id", "start", "end", "label_id", "origin", "updated_by_id"]
    for other in Span.objects.filter(article_id__in=ids).only(*fields):
        taken.setdefault(other.article_id, []).append(other)
    offers = []
    for pk, body in candidates:
        spans = taken.get(pk, [])
        # Whole words only, as "label all occurrences" decides it.
        for start, end in tokens.whole_occurrences(body, text):
            clashes = [s for s in spans if s.start < end and start < s.end]
            relabel = (
                len(clashes) == 1
                and (clashes[0].start, clashes[0].end) == (start, end)
                and clashes[0].label_id != span.label_id
                and clashes[0].origin == Span.Origin.MODEL
                and clashes[0].updated_by_id is None
            )
            if not clashes or relabel:
                offers.append(
                    Suggestion(
                        article_id=pk,
                        start=start,
                        end=end,
                        label_id=span.label_id,
                        source_span_id=span.pk,
                        created_by=user,
                    )
                )
    # A relabelled entity withdraws what its old label offered at the same places.
    places = {(o.article_id, o.start, o.end) for o in offers}
    stale = [
        s.pk
        for s in Suggestion.objects.pending().filter(article_id__in=ids).exclude(label_id=span.label_id)
        if (s.article_id, s.start, s.end) in places
    ]
    Suggestion.objects.filter(pk__in=stale).delete()
    return len(Suggestion.objects.bulk_create(offers, ignore_conflicts=True))


def _locked_suggestion(suggestion: Suggestion) -> Suggestion:
    try:
        return (
            Suggestion.objects.select_for_update()
            .select_related("label")
            .get(pk=suggestion.pk, status=Suggestion.Status.PENDING)
        )
    except Suggestion.DoesNotExist:
        raise ValidationError(_("That suggestion was already accepted or dismissed.")) from None


@transaction.atomic
def accept_suggestion(suggestion: Suggestion, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    """Turns the suggestion into a span (or relabels the model span at its place)."""
    article = _lock(suggestion.article_id, version)
    suggestion = _locked_suggestion(suggestion)
    model_span = article.spans.untouched_model_output().filter(start=suggestion.start, end=suggestion.end).first()
    if model_span is not None:
        span = relabel_span(model_span, suggestion.label.name, user)
    else:
        span = create_span(article, suggestion.start, suggestion.end, suggestion.label.name, user)
    suggestion.status = Suggestion.Status.ACCEPTED
    suggestion.decided_by, suggestion.decided_at = user, timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
    return span


@transaction.atomic
def dismiss_suggestion(suggestion: Suggestion, user: AbstractBaseUser) -> Suggestion:
    """Dismissed suggestions stay, so the same text is never offered at that place again."""
    suggestion = _locked_suggestion(suggestion)
    suggestion.status = Suggestion.Status.DISMISSED
    suggestion.decided_by, suggestion.decided_at = user, timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
    return suggestion


@transaction.atomic
def label_all_occurrences(span: Span, user: AbstractBaseUser, *, version: int | None = None) -> list[Span]:
    """Gives every other whole-word occurrence of the span's text the span's label.

    Places that overlap an existing span are skipped; each new span is recorded as created.
    Returns the new spans.
    """
    article, span = _locked_span(span, version)
    text, body = span.text, article.body
    taken = list(article.spans.values_list("start", "end"))
    new = []
    for start, end in tokens.whole_occurrences(body, text):
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
    if not new:
        return []
    Span.objects.bulk_create(new)
    SpanEvent.objects.bulk_create(_event(article, s, Kind.CREATED, user) for s in new)
    _bump(article, user)
    return new

"""An editor's entity offered as suggestions where its text occurs in other unreviewed articles."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import OperationalError, transaction
from django.tasks import task

from articles.editing import tokens
from articles.editing.scope import ROW_FIELDS, Row, clashing, relabels
from articles.models import Article, Span, SpanFields, Suggestion

log = logging.getLogger(__name__)


# pg_trgm's index needs three characters to narrow the search; shorter texts are not propagated.
PROPAGATION_MIN_LENGTH = 3
# Bounds that keep a propagation fast whatever the corpus; a common name is offered where found first.
PROPAGATION_MAX_ARTICLES = 500
PROPAGATION_MAX_SUGGESTIONS = 5_000


def withdraw(span: SpanFields | int) -> int:
    """Deletes the pending suggestions a span offered; a version's span never offered any."""
    if isinstance(span, SpanFields) and not isinstance(span, Span):
        return 0
    span_id = span if isinstance(span, int) else span.pk
    return Suggestion.objects.pending().filter(source_span_id=span_id).delete()[0]


def offer(span: Span, user: User | None) -> None:
    """Queued in the change's transaction, so the task exists exactly when the change does."""
    if settings.SUGGESTIONS_IN_BACKGROUND:
        offer_elsewhere.enqueue(span.pk, user.pk if user else None, span.label_id)
    else:
        offer_elsewhere_now(span, user)


@task()
def offer_elsewhere(span_id: int, user_id: int | None, label_id: int | None = None) -> int:
    """The span's row stays locked while its suggestions are written: an editor deleting, relabelling
    or undoing it meanwhile waits, then withdraws them."""
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    with transaction.atomic():
        span = (
            Span.objects.select_for_update(of=("self",), no_key=True)
            .select_related("article", "label")
            .filter(pk=span_id)
            .first()
        )
        if span is None or label_id not in (None, span.label_id):  # deleted, undone or relabelled meanwhile
            return 0
        return offer_elsewhere_now(span, user)


def offer_elsewhere_now(span: Span, user: User | None) -> int:
    """Two propagations into the same places can deadlock on the suggestions' unique index and
    PostgreSQL cancels one: only it is rolled back (a savepoint) and logged, never the change."""
    try:
        with transaction.atomic():
            return propagate(span, user)
    except OperationalError as error:
        log.warning("Suggestions for span %s were not offered: %s", span.pk, error)
        return 0


def propagate(span: Span, user: User | None) -> int:
    """Offers the span's text as a whole word wherever else it occurs; returns how many were offered.
    A place holding a span is skipped, except an untouched model span of that text with another label."""
    text = span.article.body[span.start : span.end]
    if len(text.strip()) < PROPAGATION_MIN_LENGTH:
        return 0
    candidates = list(
        Article.objects.exclude(status=Article.Status.REVIEWED)
        .exclude(pk=span.article_id)  # "label everywhere" is for the article itself
        .filter(double=False)
        .containing(text)
        # No ordering: the first matches the index yields will do, without sorting every match of a common name.
        .order_by()
        .values_list("id", "body")[:PROPAGATION_MAX_ARTICLES]
    )
    ids = [pk for pk, _ in candidates]
    taken: dict[int, list[Row]] = {}
    for article_id, *row in (
        Span.objects.filter(article_id__in=ids).order_by("article_id", "start").values_list("article_id", *ROW_FIELDS)
    ):
        taken.setdefault(article_id, []).append(tuple(row))
    offers: list[Suggestion] = []
    for pk, body in candidates:
        rows = taken.get(pk, [])
        for start, end in tokens.whole_occurrences(body, text):
            clashes = clashing(rows, start, end)
            if not clashes or relabels(clashes, start, end, span.label_id):
                offers.append(
                    Suggestion(
                        article_id=pk,
                        start=start,
                        end=end,
                        label_id=span.label_id,
                        source_span_id=span.pk,
                        source_article_id=span.article_id,
                        created_by=user,
                    )
                )
            if len(offers) >= PROPAGATION_MAX_SUGGESTIONS:
                break
        if len(offers) >= PROPAGATION_MAX_SUGGESTIONS:
            break
    places = {(o.article_id, o.start, o.end) for o in offers}
    stale = [
        s.pk
        for s in Suggestion.objects.pending().filter(article_id__in=ids).exclude(label_id=span.label_id)
        if (s.article_id, s.start, s.end) in places
    ]
    Suggestion.objects.filter(pk__in=stale).delete()
    return len(Suggestion.objects.bulk_create(offers, ignore_conflicts=True))

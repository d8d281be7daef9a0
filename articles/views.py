from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from articles import actions, charts, quality, tasks
from articles.models import Article, Label, Span, Suggestion


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


PAGE_SIZE = 50


@dataclass(frozen=True)
class Segment:
    text: str
    span: Span | None = None


def segments(body: str, spans: list[Span]) -> list[Segment]:
    """The body cut at span edges, for rendering each span as its own element."""
    out, at = [], 0
    for span in spans:
        if span.start > at:
            out.append(Segment(body[at : span.start]))
        out.append(Segment(body[span.start : span.end], span))
        at = span.end
    if at < len(body):
        out.append(Segment(body[at:]))
    return out


def _get_article_for_editor(request: HttpRequest, pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("updated_by", "reviewed_by"), pk=pk)


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def article_list(request: HttpRequest) -> HttpResponse:
    articles = Article.objects.with_span_count().defer("body").select_related("updated_by").order_by("id")
    page = Paginator(articles, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "articles/list.html", {"page": page})


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = _get_article_for_editor(request, pk)
    spans = list(article.spans.select_related("label"))
    context = {
        "article": article,
        "segments": segments(article.body, spans),
        "spans": spans,
        "labels": Label.objects.all(),
    }
    return render(request, "articles/detail.html", context)


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


# ---------------------------------------------------------------------------------------------------
# The learning loop: quality figures, retraining, and suggestions propagated across the corpus.


def _quality_context(figures: dict) -> dict:
    model, reference = figures["model"], figures["reference"]
    series = ["precision", "recall", "F1"]

    def bars(rows: list[dict], match: str) -> list[tuple[str, list[float | None]]]:
        return [(row["label"] or "—", [row[match]["p"], row[match]["r"], row[match]["f"]]) for row in rows]

    rows = [{"label": _("overall"), **model["overall"]}, *model["labels"]]
    days = sorted({row["day"] for row in model["over_time"]})
    versions: dict[str, list[float | None]] = {}
    for row in model["over_time"]:
        line = versions.setdefault(row["model"] or _("unknown"), [None] * len(days))
        line[days.index(row["day"])] = row["exact"]["f"]
    effort = figures["effort"]
    return {
        "model": model,
        "reference": reference,
        "effort": effort,
        "training": figures["training"],
        "rows": rows,
        "reference_rows": [{"label": _("overall"), **reference["overall"]}],
        "exact_chart": charts.grouped_bars(_("Exact match per label"), bars(rows, "exact"), series),
        "overlap_chart": charts.grouped_bars(_("Overlap match per label"), bars(rows, "overlap"), series),
        "time_chart": charts.lines(_("Exact F1 by day of review, per model version"), days, versions),
        "day_chart": charts.columns(
            _("Articles reviewed per day"), [(row["day"], row["reviewed"]) for row in effort["per_day"]]
        ),
        "statuses": [(status, effort["status"].get(status.value, 0)) for status in Article.Status],
    }


@require_GET
@permission_required("articles.view_quality", raise_exception=True)
def quality_page(request: HttpRequest) -> HttpResponse:
    snapshot = quality.cached()
    if snapshot is None:
        snapshot = quality.refresh()
    elif quality.is_stale(snapshot) and quality.claim_refresh(snapshot):
        tasks.refresh_quality.enqueue()
        snapshot.refresh_requested_at = timezone.now()
    context = {"snapshot": snapshot, **_quality_context(snapshot.figures)}
    return render(request, "articles/quality.html", context)


@require_POST
@permission_required("articles.train_model", raise_exception=True)
def quality_train(request: HttpRequest) -> HttpResponse:
    reviewed = Article.objects.filter(status=Article.Status.REVIEWED).count()
    minimum = settings.TRAIN_MIN_ARTICLES
    if reviewed < minimum:
        messages.error(
            request,
            _("Retraining needs at least %(minimum)d reviewed articles; there are %(reviewed)d: review %(more)d more.")
            % {"minimum": minimum, "reviewed": reviewed, "more": minimum - reviewed},
        )
    else:
        tasks.train_model.enqueue(user_id=request.user.pk, force=request.POST.get("force") == "1")
        messages.success(
            request,
            _(
                "Retraining on %(reviewed)d reviewed articles is queued; "
                "the new model replaces the current one only if it scores better."
            )
            % {"reviewed": reviewed},
        )
    return redirect("articles:quality")


def _get_suggestion_for_editor(request: HttpRequest, pk: int) -> Suggestion:
    return get_object_or_404(Suggestion.objects.select_related("article", "label"), pk=pk)


def pending_suggestions(article: Article) -> list[Suggestion]:
    """The context of ``articles/_suggestions.html`` (one query: the article is the one at hand)."""
    suggestions = list(article.suggestions.pending().select_related("label"))
    for suggestion in suggestions:
        suggestion.article = article
    return suggestions


def _suggestions_response(request: HtmxHttpRequest, article: Article, error: str = "") -> HttpResponse:
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("articles:detail", article.pk)
    context = {"suggestions": pending_suggestions(article), "error": error}
    response = render(request, "articles/_suggestions.html", context)
    # The workspace refreshes its spans when a suggestion became one.
    return trigger_client_event(response, "spans-changed") if not error else response


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    suggestion = _get_suggestion_for_editor(request, pk)
    version = request.POST.get("version")
    try:
        actions.accept_suggestion(suggestion, request.user, version=int(version) if version else None)
    except (ValidationError, actions.StaleVersion) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        return _suggestions_response(request, suggestion.article, message)
    suggestion.article.refresh_from_db()
    return _suggestions_response(request, suggestion.article)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_dismiss(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    suggestion = _get_suggestion_for_editor(request, pk)
    try:
        actions.dismiss_suggestion(suggestion, request.user)
    except ValidationError as error:
        return _suggestions_response(request, suggestion.article, error.messages[0])
    return _suggestions_response(request, suggestion.article)

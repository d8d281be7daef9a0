import codecs
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import InvalidPage, Paginator
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget, trigger_client_event
from django_htmx.middleware import HtmxDetails

from articles import actions, charts, exports, quality, tasks, tokens, uploads
from articles.forms import DEFAULT_ORDERING, QueueFilters
from articles.importers import FORMATS
from articles.models import Article, Export, ImportBatch, Label, Span, SpanEvent, Suggestion

# Offered on the upload form; any name Python knows is accepted.
ENCODINGS = [
    ("", gettext_lazy("UTF-8 (others are refused)")),
    ("cp1252", gettext_lazy("Windows-1252 (Western European)")),
    ("latin-1", "ISO-8859-1 (Latin-1)"),
    ("iso-8859-15", "ISO-8859-15 (Latin-9)"),
    ("utf-16", "UTF-16"),
    ("mac-roman", "Mac OS Roman"),
]
RECENT_BATCHES = 10


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


PAGE_SIZE = 50
# The queue counts matching articles exactly up to here, then says "more than": counting every
# match of a filter over 100,000 articles would cost many times the page itself.
COUNT_CAP = 1_000


RECENT_EXPORTS = 10


class Refused(Exception):
    """A request the workspace answers with a message and a 4xx status, changing nothing."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _get_article_for_editor(request: HttpRequest, pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("updated_by", "reviewed_by"), pk=pk)


@dataclass(frozen=True)
class QueuePage:
    articles: list[Article]
    total: int
    has_previous: bool
    has_next: bool

    @property
    def total_is_capped(self) -> bool:
        return self.total >= COUNT_CAP


def _queue_page(filters: dict) -> QueuePage:
    articles = Article.objects.all()
    if filters["status"]:
        articles = articles.filter(status=filters["status"])
    if filters["label"]:
        articles = articles.with_label(filters["label"])
    if filters["batch"]:
        articles = articles.filter(batch=filters["batch"])
    if filters["q"]:
        articles = articles.matching(filters["q"])
    after, before = filters["after"], filters["before"]
    rows = list(
        articles.for_queue().seek(filters["ordering"] or DEFAULT_ORDERING, after=after, before=before)[: PAGE_SIZE + 1]
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if before is not None:
        rows.reverse()
    counts = Span.objects.count_by_article([article.pk for article in rows])
    for article in rows:
        article.span_count = counts.get(article.pk, 0)
    return QueuePage(
        articles=rows,
        total=articles.count_up_to(COUNT_CAP),
        has_previous=more if before is not None else after is not None,
        has_next=more if before is None else True,
    )


def _posted_int(request: HttpRequest, name: str) -> int:
    value = request.POST.get(name, "")
    try:
        return int(value)
    except ValueError:
        raise Refused(
            _("The field “%(name)s” must be a whole number; got “%(value)s”.") % {"name": name, "value": value[:40]}
        ) from None


def _span_of(article: Article, span_id: int) -> Span:
    span = article.spans.select_related("label").filter(pk=span_id).first()
    if span is None:
        raise Refused(
            _("Span %(span)s is not part of article %(article)s (it may have been deleted).")
            % {"span": span_id, "article": article.pk},
            status=404,
        )
    span.article = article
    return span


class Mark(NamedTuple):
    """What the page shows of a span; plain tuples, as a long article has thousands."""

    pk: int
    start: int
    end: int
    label: Label
    origin: str
    proposed: bool  # untouched model output, not yet confirmed by an editor
    text: str


def _workspace_context(article: Article, **extra) -> dict:
    labels = list(Label.objects.all())
    by_pk = {label.pk: label for label in labels}
    body = article.body
    spans = [
        Mark(pk, start, end, by_pk[label_id], origin, origin == Span.Origin.MODEL and editor is None, body[start:end])
        for pk, start, end, label_id, origin, editor in article.spans.order_by("start").values_list(
            "pk", "start", "end", "label_id", "origin", "updated_by_id"
        )
    ]
    by_label: dict[int, list[Mark]] = {}
    for span in spans:
        by_label.setdefault(span.label.pk, []).append(span)
    return {
        "article": article,
        "spans": spans,
        "labels": labels,
        "entities": [(label, by_label[label.pk]) for label in labels if label.pk in by_label],
        **extra,
    }


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def article_list(request: HtmxHttpRequest) -> HttpResponse:
    form = QueueFilters(request.GET)
    # An HTMX filter or pager request swaps only the table; going back in history needs the page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "articles/list.html#article-table" if partial else "articles/list.html"
    # The full page also shows how pre-annotation is going (the box then polls by itself).
    context = {"form": form} if partial else {"form": form, "progress": tasks.progress()}
    if form.is_valid():
        response = render(request, template, {**context, "page": _queue_page(form.cleaned_data)})
    else:
        response = render(request, template, context, status=400)
    patch_vary_headers(response, ["HX-Request"])
    return response


@never_cache
@require_GET
@permission_required("articles.review_article", raise_exception=True)
def next_article(request: HtmxHttpRequest) -> HttpResponse:
    """Opens the next article needing review that no other editor has open (see actions.lease_next);
    ``?after=ID`` is the article the editor leaves."""
    after = request.GET.get("after")
    if after is not None and not after.isdigit():
        return HttpResponseBadRequest(
            _("“after” must be the id of the article you leave (a whole number); got “%(value)s”.") % {"value": after},
            content_type="text/plain; charset=utf-8",
        )
    article = actions.lease_next(request.user, after_id=int(after) if after else None)
    if article is None:
        messages.info(
            request, _("All caught up: no other article needs review right now, or other editors have them open.")
        )
        url = reverse("articles:list")
    else:
        url = reverse("articles:detail", args=[article.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def preannotation_progress(request: HttpRequest) -> HttpResponse:
    """The article list's progress box, polled by HTMX while the workers go."""
    return render(request, "articles/list.html#preannotation-progress", {"progress": tasks.progress()})


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = _get_article_for_editor(request, pk)
    if article.status != Article.Status.REVIEWED:
        # Starts the review of a pre-annotated article, and keeps it out of others' "next article".
        article = actions.open_for_review(article, request.user)
    # What the script says in the editor's language.
    js_text = {
        "saving": _("Saving…"),
        "notSaved": _("Your change was NOT saved: %(reason)s. Check your connection and try again."),
        "offline": _("the server did not answer"),
        "timeout": _("the server took too long to answer"),
        "chooseSpan": _("Select an entity first (click it, or move to it with the arrow keys)."),
        "chooseText": _("Select some text in the article first, then pick a label."),
        "sticky": _("Sticky label: %(label)s. Every selection gets it until you turn it off."),
        "stickyOff": _("Sticky label is off."),
    }
    context = _workspace_context(article, js_text=js_text, suggestions=pending_suggestions(article))
    return render(request, "articles/detail.html", context)


class Changed(NamedTuple):
    message: str
    select: int | None  # the span the editor should have selected next
    article: Article | None  # the article as the change left it, if the verb returned it


# A change returns what the editor should see next, or where to go.
Change = Callable[[Article, int], Changed | HttpResponse]


def _change(request: HttpRequest, pk: int, change: Change) -> HttpResponse:
    """Runs one change and answers with the regions it alters: the text, the entity list, the messages.

    Refusals change nothing and answer 4xx with the reason; a stale version also refreshes the
    editor's view to the article as it is now. The verbs lock and load the article themselves, so
    a change costs no query before them.
    """
    try:
        if "version" not in request.POST:
            raise Refused(_("The request does not say which version of the article it changes (field “version”)."))
        result = change(Article(pk=pk), _posted_int(request, "version"))
    except Article.DoesNotExist:
        raise Http404(_("No article %(pk)s.") % {"pk": pk}) from None
    except actions.StaleVersion as stale:
        article = _get_article_for_editor(request, pk)
        context = _workspace_context(article, alert=str(stale), oob=True)
        return render(request, "articles/detail.html#changed", context, status=409)
    except (Refused, ValidationError) as refusal:
        status = refusal.status if isinstance(refusal, Refused) else 422
        text = str(refusal) if isinstance(refusal, Refused) else " ".join(refusal.messages)
        response = render(request, "articles/detail.html#messages", {"alert": text, "oob": True}, status=status)
        return reswap(response, "none")
    if isinstance(result, HttpResponse):
        return result
    if not request.htmx:
        messages.success(request, result.message)
        return redirect("articles:detail", pk=pk)
    article = result.article or _get_article_for_editor(request, pk)
    context = _workspace_context(article, status=result.message, select=result.select, oob=True)
    return render(request, "articles/detail.html#changed", context)


def _described(message: str, span: Span) -> str:
    return message % {"label": span.label.name, "text": span.text}


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def create_span(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        # The browser sends the raw selection; the server decides the whole tokens it covers.
        start, end, label = _posted_int(request, "start"), _posted_int(request, "end"), request.POST.get("label", "")
        span = actions.create_span(article, start, end, label, request.user, version=version, whole_tokens=True)
        return Changed(_described(_("Added %(label)s “%(text)s”."), span), span.pk, span.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def relabel_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = Span(pk=span_id, article_id=pk)
        span = actions.relabel_span(span, request.POST.get("label", ""), request.user, version=version)
        return Changed(_described(_("“%(text)s” is now %(label)s."), span), span.pk, span.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def accept_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = actions.accept_span(Span(pk=span_id, article_id=pk), request.user, version=version)
        return Changed(_described(_("Accepted %(label)s “%(text)s”."), span), span.pk, span.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def resize_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    """Moves one edge by a token (``edge`` and ``by``) or sets both (``start``, ``end``, snapped to tokens)."""

    def change(article: Article, version: int) -> Changed:
        span = _span_of(_get_article_for_editor(request, pk), span_id)
        if "edge" in request.POST:
            edge, by = request.POST["edge"], _posted_int(request, "by")
            if edge not in {"start", "end"} or by not in {-1, 1}:
                raise Refused(_("Resizing needs edge=start or end and by=-1 or 1."))
            start, end = tokens.step(span.article.body, span.start, span.end, edge, by)
        else:
            start, end = tokens.snap(span.article.body, _posted_int(request, "start"), _posted_int(request, "end"))
        span = actions.resize_span(span, start, end, request.user, version=version)
        return Changed(_described(_("Resized to “%(text)s”."), span), span.pk, span.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def delete_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        gone = actions.delete_span(Span(pk=span_id, article_id=pk), request.user, version=version)
        following = gone.article.spans.filter(start__gte=gone.end).values_list("pk", flat=True).first()
        return Changed(_described(_("Deleted %(label)s “%(text)s”."), gone), following, gone.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def label_all_occurrences(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = _span_of(_get_article_for_editor(request, pk), span_id)
        added = actions.label_all_occurrences(span, request.user, version=version)
        values = {"count": len(added), "label": span.label.name, "text": span.text}
        if not added:
            return Changed(_("No other free occurrence of “%(text)s” to label.") % values, span.pk, None)
        return Changed(_("Labelled %(count)s more “%(text)s” as %(label)s.") % values, span.pk, added[0].article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        event = actions.undo(article, request.user, version=version)
        if event is None:
            return Changed(_("Nothing to undo: you have not changed this article."), None, None)
        undone = event.undoes
        # The text the undone change was about: where it put the span, or where a deletion took it.
        start, end = undone.after_start, undone.after_end
        if end is None:
            start, end = undone.before_start, undone.before_end
        values = {"kind": undone.get_kind_display().lower(), "text": event.article.body[start:end]}
        select = event.span_id if event.after_end else None
        return Changed(_("Undone: %(kind)s “%(text)s”.") % values, select, event.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def mark_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> HttpResponse:
        article = actions.mark_reviewed(article, request.user, version=version)
        messages.success(request, _("“%(title)s” is reviewed.") % {"title": article.title})
        following = f"{reverse('articles:next')}?after={pk}"
        return HttpResponseClientRedirect(following) if request.htmx else redirect(following)

    return _change(request, pk, change)


def _upload_page(request: HttpRequest, errors: list[str] = (), status: int = 200) -> HttpResponse:
    context = {
        "errors": errors,
        "encodings": ENCODINGS,
        "formats": FORMATS,
        "max_files": settings.IMPORT_MAX_FILES,
        "max_bytes": settings.IMPORT_MAX_UPLOAD_BYTES,
        "batches": ImportBatch.objects.select_related("created_by")[:RECENT_BATCHES],
    }
    return render(request, "articles/upload.html", context, status=status)


def upload_too_large(request: HttpRequest, size: int) -> HttpResponse:
    """The 413 of UploadLimitMiddleware: the upload page with the limit named, for those who upload."""
    limit = filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)
    message = _("The upload is %(size)s; the limit is %(limit)s (IMPORT_MAX_UPLOAD_BYTES).") % {
        "size": filesizeformat(size),
        "limit": limit,
    }
    if not request.user.has_perm("articles.import_articles"):
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    return _upload_page(request, [message], status=413)


@require_http_methods(["GET", "POST"])
@permission_required("articles.import_articles", raise_exception=True)
def upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _receive_upload(request)
    return _upload_page(request)


def _receive_upload(request: HttpRequest) -> HttpResponse:
    files = request.FILES.getlist("files")
    encoding = request.POST.get("encoding", "").strip()
    errors = []
    if not files:
        errors.append(_("Pick or drop at least one file."))
    if len(files) > settings.IMPORT_MAX_FILES:
        errors.append(
            _("%(count)s files in one upload; at most %(max)s are allowed.")
            % {"count": len(files), "max": settings.IMPORT_MAX_FILES}
        )
    unsupported = [f.name for f in files if PurePosixPath(f.name or "").suffix.lower() not in FORMATS]
    if unsupported:
        errors.append(
            _("Unsupported format: %(names)s. Use %(formats)s.")
            % {"names": ", ".join(unsupported), "formats": ", ".join(FORMATS)}
        )
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            errors.append(_("Unknown encoding %(encoding)r.") % {"encoding": encoding})
    if errors:
        return _upload_page(request, errors, status=400)
    batch = uploads.receive(
        files,
        request.user,
        encoding=encoding,
        create_labels=request.POST.get("create_labels") == "on",
        preannotate=request.POST.get("preannotate") == "on",
    )
    return redirect("articles:upload-batch", batch.pk)


def _get_batch_for_admin(request: HttpRequest, pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch.objects.select_related("created_by"), pk=pk)


@require_GET
@permission_required("articles.import_articles", raise_exception=True)
def upload_batch(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_admin(request, pk)
    running = batch.status in (ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING)
    context = {"batch": batch, "running": running, "progress": uploads.progress(batch) if running else None}
    template = "articles/upload_batch.html#batch-status" if request.htmx else "articles/upload_batch.html"
    return render(request, template, context)


@require_POST
@permission_required("articles.import_articles", raise_exception=True)
def confirm_upload(request: HttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch_for_admin(request, pk)
    uploads.confirm(batch)
    return redirect("articles:upload-batch", batch.pk)


@require_GET
@permission_required("articles.export_spans", raise_exception=True)
def export_page(request: HttpRequest) -> HttpResponse:
    """The filters as a form, how much they export (live, as the form changes), and the last exports."""
    filters = exports.ExportFilters(request.GET)
    context = {"filters": filters, "counts": exports.counts(filters) if filters.is_valid() else None}
    if request.htmx:
        return render(request, "articles/export.html#count", context)
    context["recent"] = Export.objects.select_related("created_by")[:RECENT_EXPORTS]
    return render(request, "articles/export.html", context)


def _bad_request(message: str) -> HttpResponse:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@require_GET
@permission_required("articles.export_spans", raise_exception=True)
def export_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The export as a file: streamed as PostgreSQL produces it (CSV, JSONL); whole for a DocBin."""
    excel = request.GET.get("excel", "")
    if excel not in ("", "0", "1"):
        return _bad_request(_("Bad excel value “%(value)s”; allowed: 1 (CSV for Excel) or 0.") % {"value": excel})
    filters = exports.ExportFilters(request.GET)
    if not filters.is_valid():
        return _bad_request(filters.problems())
    try:
        export = exports.ExportRun(filters, fmt, request.user, excel=excel == "1")
    except ValueError as error:
        return _bad_request(str(error))
    if fmt == Export.Format.SPACY:
        response = HttpResponse(b"".join(export), content_type=export.content_type)
        response["Export-Unaligned-Spans"] = str(len(export.report.unaligned))
    else:
        response = StreamingHttpResponse(export, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename()}"'
    return response


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


DATABASE_UNAVAILABLE = "The database is unavailable; try again in a moment."


def server_error(request: HttpRequest) -> HttpResponse:
    """The project's handler500: an unreachable database (PostgreSQL restarting, say) is a 503 with its
    reason, every other error Django's 500 page.

    A handler, not a middleware: the first query of a request is usually the session's, made by a
    middleware, and only the handler sees errors raised there. Plain text, as a template's context
    processors would query the database again.
    """
    if isinstance(sys.exception(), OperationalError | InterfaceError):
        response = HttpResponse(DATABASE_UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
    return defaults.server_error(request)


# ---------------------------------------------------------------------------------------------------
# The learning loop: quality figures, retraining, and suggestions propagated across the corpus.


def _quality_context(figures: dict) -> dict:
    model, reference = figures["model"], figures["reference"]
    series = [_("precision"), _("recall"), "F1"]

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
    if not error:
        # An accepted suggestion is a span now: the workspace's text, entity list and version follow.
        # Here the text is a secondary region too (the request's target is the suggestions).
        changed = render(request, "articles/detail.html#changed", _workspace_context(article, oob=True, body_oob=True))
        response.content += changed.content
        trigger_client_event(response, "spans-changed")
    return response


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


# ---------------------------------------------------------------------------------------------------
# Trust: a stale CSRF token explained in the page, and each article's audit trail.


def csrf_failure(request: HtmxHttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form or a change sent with a token the session no longer accepts, most
    often because the user signed in again in another tab (signing in rotates the token).

    Nothing was changed, and nothing will be saved until the page is reloaded. An HTMX change gets
    the message in the page's alert region (``#page-alert`` in base.html, let in by
    static/page-alert.js), never an error page swapped into the article text.
    """
    if request.htmx:
        context = {"reload_url": request.htmx.current_url_abs_path or ""}
        response = render(request, "csrf_failure.html#message", context, status=403)
        return reswap(retarget(response, "#page-alert"), "innerHTML")
    # A plain form: back to the page it came from, if it came from this site.
    referer = request.headers.get("Referer", "")
    came_from_here = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    context = {"reload_url": referer if came_from_here else reverse("articles:list")}
    return render(request, "csrf_failure.html", context, status=403)


HISTORY_PAGE_SIZE = 100


class HistoryRow(NamedTuple):
    event: SpanEvent
    who: str
    before: str  # the label and text before the change; empty for a creation
    after: str  # after it; empty for a deletion


def _history_row(event: SpanEvent, body: str) -> HistoryRow:
    def state(label: str, start: int | None, end: int | None) -> str:
        return "" if start is None or end is None else f"{label} “{body[start:end]}” [{start}–{end}]"

    if event.actor is not None:
        who = event.actor.get_username()
    elif event.origin == Span.Origin.MODEL:
        who = _("model %(name)s") % {"name": event.model} if event.model else _("model")
    else:
        who = event.get_origin_display()
    return HistoryRow(
        event,
        who,
        state(event.before_label, event.before_start, event.before_end),
        state(event.after_label, event.after_start, event.after_end),
    )


@require_GET
@permission_required("articles.view_spanevent", raise_exception=True)
def article_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every change to the article's spans, newest first: who (or the model), what, when. Read-only:
    the rows are written by the verbs in actions.py and PostgreSQL refuses to update them."""
    article = get_object_or_404(Article, pk=pk)
    paginator = Paginator(article.events.select_related("actor").order_by("-id"), HISTORY_PAGE_SIZE)
    number = request.GET.get("page", "1")
    try:
        page = paginator.page(number)
    except InvalidPage:
        return _bad_request(
            _("There is no page “%(page)s” of this history: it has pages 1 to %(pages)s.")
            % {"page": number[:40], "pages": paginator.num_pages}
        )
    rows = [_history_row(event, article.body) for event in page]
    return render(request, "articles/history.html", {"article": article, "page": page, "rows": rows})

from dataclasses import dataclass

from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from articles import exports
from articles.models import Article, Export, Label, Span

PAGE_SIZE = 50
RECENT_EXPORTS = 10


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
        return _bad_request(f"Bad excel value “{excel}”; allowed: 1 (CSV for Excel) or 0.")
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

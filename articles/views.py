from dataclasses import dataclass

from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from articles import tasks
from articles.models import Article, Label, Span

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
    return render(request, "articles/list.html", {"page": page, "progress": tasks.progress()})


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def preannotation_progress(request: HttpRequest) -> HttpResponse:
    """The article list's progress box, polled by HTMX while the workers go."""
    return render(request, "articles/list.html#preannotation-progress", {"progress": tasks.progress()})


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

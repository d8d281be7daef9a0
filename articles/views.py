from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from articles import actions
from articles.forms import DEFAULT_ORDERING, QueueFilters
from articles.models import Article, Label, Span

PAGE_SIZE = 50
# The queue counts matching articles exactly up to here, then says "more than": counting every
# match of a filter over 100,000 articles would cost many times the page itself.
COUNT_CAP = 1_000


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


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


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def article_list(request: HtmxHttpRequest) -> HttpResponse:
    form = QueueFilters(request.GET)
    # An HTMX filter or pager request swaps only the table; going back in history needs the page.
    partial = request.htmx and not request.htmx.history_restore_request
    template = "articles/list.html#article-table" if partial else "articles/list.html"
    if form.is_valid():
        response = render(request, template, {"form": form, "page": _queue_page(form.cleaned_data)})
    else:
        response = render(request, template, {"form": form}, status=400)
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

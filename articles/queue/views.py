"""The article list with its filters, and "next article"."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from articles.models import Article, Span
from articles.nlp import preannotation
from articles.queue import leases
from articles.queue.forms import DEFAULT_ORDERING, QueueFilters
from articles.site.http import AuthenticatedHttpRequest, HtmxHttpRequest, bad_request

PAGE_SIZE = 50
# Counted exactly up to here, then "more than": counting every match costs more than the page.
COUNT_CAP = 1_000


@dataclass(frozen=True)
class QueuePage:
    articles: list[Article]
    total: int
    has_previous: bool
    has_next: bool

    @property
    def total_is_capped(self) -> bool:
        return self.total >= COUNT_CAP


def _queue_page(filters: dict[str, Any]) -> QueuePage:
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
        # Counted for the page in one query; an attribute of this row only, not a column.
        article.span_count = counts.get(article.pk, 0)  # type: ignore[attr-defined]
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
    context = {"form": form} if partial else {"form": form, "progress": preannotation.progress()}
    if form.is_valid():
        response = render(request, template, {**context, "page": _queue_page(form.cleaned_data)})
    else:
        response = render(request, template, context, status=400)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def next_article(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A POST, as it claims work; ``after`` is the article the editor leaves."""
    after = request.POST.get("after") or None
    if after is not None and not after.isdigit():
        return bad_request(
            _("“after” must be the id of the article you leave (a whole number); got “%(value)s”.") % {"value": after}
        )
    url = leases.next_url(request, after_id=int(after) if after else None)
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def preannotation_progress(request: HttpRequest) -> HttpResponse:
    """The article list's progress box, polled by HTMX while the workers go."""
    return render(request, "articles/list.html#preannotation-progress", {"progress": preannotation.progress()})

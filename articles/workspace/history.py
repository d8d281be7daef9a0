"""An article's audit trail: every change to its spans, newest first, read-only."""

from typing import NamedTuple

from django.contrib.auth.decorators import permission_required
from django.core.paginator import InvalidPage, Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from articles.models import Article, Span, SpanEvent
from articles.site.http import AuthenticatedHttpRequest, bad_request

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
def article_history(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Every change to the article's spans, newest first: who (or the model), what, when."""
    article = get_object_or_404(Article.objects.select_related("batch__created_by"), pk=pk)
    paginator = Paginator(article.events.select_related("actor").order_by("-id"), HISTORY_PAGE_SIZE)
    number = request.GET.get("page", "1")
    try:
        page = paginator.page(number)
    except InvalidPage:
        return bad_request(
            _("There is no page “%(page)s” of this history: it has pages 1 to %(pages)s.")
            % {"page": number[:40], "pages": paginator.num_pages}
        )
    rows = [_history_row(event, article.body) for event in page]
    return render(request, "articles/history.html", {"article": article, "page": page, "rows": rows})

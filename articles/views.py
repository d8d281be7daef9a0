from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap

from articles import actions, tokens
from articles.models import Article, Label, Span

PAGE_SIZE = 50


class Refused(Exception):
    """A request the workspace answers with a message and a 4xx status, changing nothing."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def _get_article_for_editor(request: HttpRequest, pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("updated_by", "reviewed_by"), pk=pk)


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


def _workspace_context(article: Article, **extra) -> dict:
    spans = list(article.spans.select_related("label"))
    by_label: dict[int, list[Span]] = {}
    for span in spans:
        span.article = article
        by_label.setdefault(span.label_id, []).append(span)
    labels = list(Label.objects.all())
    return {
        "article": article,
        "spans": spans,
        "labels": labels,
        "entities": [(label, by_label[label.pk]) for label in labels if label.pk in by_label],
        **extra,
    }


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
    if article.status == Article.Status.PRE_ANNOTATED:
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
    return render(request, "articles/detail.html", _workspace_context(article, js_text=js_text))


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def next_article(request: HttpRequest) -> HttpResponse:
    """The next article needing review after the one the editor leaves (``?from=ID``)."""
    leaving = request.GET.get("from", "")
    queue = Article.objects.needs_review().order_by("pk")
    if leaving.isdigit():
        queue = queue.exclude(pk=int(leaving))
    article = queue.only("pk").first()
    if article is None:
        messages.info(request, _("No article needs review: the queue is empty."))
        return redirect("articles:list")
    return redirect("articles:detail", pk=article.pk)


# A change returns what the editor should see next (a message and the span to select), or where to go.
Change = Callable[[Article, int], tuple[str, int | None] | HttpResponse]


def _change(request: HttpRequest, pk: int, change: Change) -> HttpResponse:
    """Runs one change and answers with the regions it alters: the text, the entity list, the messages.

    Refusals change nothing and answer 4xx with the reason; a stale version also refreshes the
    editor's view to the article as it is now.
    """
    article = _get_article_for_editor(request, pk)
    try:
        if "version" not in request.POST:
            raise Refused(_("The request does not say which version of the article it changes (field “version”)."))
        result = change(article, _posted_int(request, "version"))
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
    message, select = result
    if not request.htmx:
        messages.success(request, message)
        return redirect("articles:detail", pk=pk)
    article = _get_article_for_editor(request, pk)
    return render(request, "articles/detail.html#changed", _workspace_context(article, status=message, select=select, oob=True))


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def create_span(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> tuple[str, int]:
        # The browser sends the raw selection; the server decides the whole tokens it covers.
        start, end = tokens.snap(article.body, _posted_int(request, "start"), _posted_int(request, "end"))
        span = actions.create_span(article, start, end, request.POST.get("label", ""), request.user, version=version)
        return _("Added %(label)s “%(text)s”.") % {"label": span.label.name, "text": span.text}, span.pk

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def relabel_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> tuple[str, int]:
        span = actions.relabel_span(_span_of(article, span_id), request.POST.get("label", ""), request.user, version=version)
        return _("“%(text)s” is now %(label)s.") % {"label": span.label.name, "text": span.text}, span.pk

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def accept_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> tuple[str, int]:
        span = actions.accept_span(_span_of(article, span_id), request.user, version=version)
        return _("Accepted %(label)s “%(text)s”.") % {"label": span.label.name, "text": span.text}, span.pk

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def resize_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    """Moves one edge by a token (``edge`` and ``by``) or sets both (``start``, ``end``, snapped to tokens)."""

    def change(article: Article, version: int) -> tuple[str, int]:
        span = _span_of(article, span_id)
        if "edge" in request.POST:
            edge, by = request.POST["edge"], _posted_int(request, "by")
            if edge not in {"start", "end"} or by not in {-1, 1}:
                raise Refused(_("Resizing needs edge=start or end and by=-1 or 1."))
            start, end = tokens.step(article.body, span.start, span.end, edge, by)
        else:
            start, end = tokens.snap(article.body, _posted_int(request, "start"), _posted_int(request, "end"))
        span = actions.resize_span(span, start, end, request.user, version=version)
        return _("Resized to “%(text)s”.") % {"text": span.text}, span.pk

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def delete_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> tuple[str, int | None]:
        span = _span_of(article, span_id)
        following = article.spans.filter(start__gte=span.end).values_list("pk", flat=True).first()
        actions.delete_span(span, request.user, version=version)
        return _("Deleted %(label)s “%(text)s”.") % {"label": span.label.name, "text": span.text}, following

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def label_all_occurrences(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> tuple[str, int]:
        span = _span_of(article, span_id)
        added = actions.label_all_occurrences(span, request.user, version=version)
        values = {"count": len(added), "label": span.label.name, "text": span.text}
        if not added:
            return _("No other free occurrence of “%(text)s” to label.") % values, span.pk
        return _("Labelled %(count)s more “%(text)s” as %(label)s.") % values, span.pk

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> tuple[str, int | None]:
        event = actions.undo(article, request.user, version=version)
        if event is None:
            return _("Nothing to undo: you have not changed this article."), None
        undone = event.undoes
        start, end = (undone.after_start, undone.after_end) if undone.after_end else (undone.before_start, undone.before_end)
        values = {"kind": undone.get_kind_display().lower(), "text": article.body[start:end]}
        return _("Undone: %(kind)s “%(text)s”.") % values, event.span_id if event.after_end else None

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def mark_reviewed(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> HttpResponse:
        actions.mark_reviewed(article, request.user, version=version)
        messages.success(request, _("“%(title)s” is reviewed.") % {"title": article.title})
        following = f"{reverse('articles:next')}?from={pk}"
        return HttpResponseClientRedirect(following) if request.htmx else redirect(following)

    return _change(request, pk, change)


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

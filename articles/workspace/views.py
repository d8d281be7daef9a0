"""The editing workspace: the page of one article, and every change an editor makes on it.

Each change answers an HTMX request with the regions it alters (text, entity list, messages) and a
plain form with a redirect, so the page works without JavaScript too.
"""

from collections.abc import Callable
from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event

from articles.models import Article, Span, Suggestion
from articles.queue import leases
from articles.site.http import HtmxHttpRequest
from articles.workspace import suggestions, tokens, verbs
from articles.workspace.page import pending_suggestions, workspace_context


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


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def article_detail(request: HttpRequest, pk: int) -> HttpResponse:
    article = _get_article_for_editor(request, pk)
    if article.status != Article.Status.REVIEWED:
        # Starts the review of a pre-annotated article, and keeps it out of others' "next article".
        article = leases.open_for_review(article, request.user)
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
    context = workspace_context(article, js_text=js_text, suggestions=pending_suggestions(article))
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
    except verbs.StaleVersion as stale:
        article = _get_article_for_editor(request, pk)
        context = workspace_context(article, alert=str(stale), oob=True)
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
    context = workspace_context(article, status=result.message, select=result.select, oob=True)
    return render(request, "articles/detail.html#changed", context)


def _described(message: str, span: Span) -> str:
    return message % {"label": span.label.name, "text": span.text}


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def create_span(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        # The browser sends the raw selection; the server decides the whole tokens it covers.
        start, end, label = _posted_int(request, "start"), _posted_int(request, "end"), request.POST.get("label", "")
        span = verbs.create_span(article, start, end, label, request.user, version=version, whole_tokens=True)
        return Changed(_described(_("Added %(label)s “%(text)s”."), span), span.pk, span.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def relabel_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = Span(pk=span_id, article_id=pk)
        span = verbs.relabel_span(span, request.POST.get("label", ""), request.user, version=version)
        return Changed(_described(_("“%(text)s” is now %(label)s."), span), span.pk, span.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def accept_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = verbs.accept_span(Span(pk=span_id, article_id=pk), request.user, version=version)
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
        span = verbs.resize_span(span, start, end, request.user, version=version)
        return Changed(_described(_("Resized to “%(text)s”."), span), span.pk, span.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def delete_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        gone = verbs.delete_span(Span(pk=span_id, article_id=pk), request.user, version=version)
        following = gone.article.spans.filter(start__gte=gone.end).values_list("pk", flat=True).first()
        return Changed(_described(_("Deleted %(label)s “%(text)s”."), gone), following, gone.article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def label_all_occurrences(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = _span_of(_get_article_for_editor(request, pk), span_id)
        added = verbs.label_all_occurrences(span, request.user, version=version)
        values = {"count": len(added), "label": span.label.name, "text": span.text}
        if not added:
            return Changed(_("No other free occurrence of “%(text)s” to label.") % values, span.pk, None)
        return Changed(_("Labelled %(count)s more “%(text)s” as %(label)s.") % values, span.pk, added[0].article)

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        event = verbs.undo(article, request.user, version=version)
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
        article = verbs.mark_reviewed(article, request.user, version=version)
        messages.success(request, _("“%(title)s” is reviewed.") % {"title": article.title})
        following = f"{reverse('articles:next')}?after={pk}"
        return HttpResponseClientRedirect(following) if request.htmx else redirect(following)

    return _change(request, pk, change)


def _get_suggestion_for_editor(request: HttpRequest, pk: int) -> Suggestion:
    return get_object_or_404(Suggestion.objects.select_related("article", "label"), pk=pk)


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
        changed = render(request, "articles/detail.html#changed", workspace_context(article, oob=True, body_oob=True))
        response.content += changed.content
        trigger_client_event(response, "spans-changed")
    return response


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    suggestion = _get_suggestion_for_editor(request, pk)
    version = request.POST.get("version")
    try:
        suggestions.accept_suggestion(suggestion, request.user, version=int(version) if version else None)
    except (ValidationError, verbs.StaleVersion) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        return _suggestions_response(request, suggestion.article, message)
    suggestion.article.refresh_from_db()
    return _suggestions_response(request, suggestion.article)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_dismiss(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    suggestion = _get_suggestion_for_editor(request, pk)
    try:
        suggestions.dismiss_suggestion(suggestion, request.user)
    except ValidationError as error:
        return _suggestions_response(request, suggestion.article, error.messages[0])
    return _suggestions_response(request, suggestion.article)

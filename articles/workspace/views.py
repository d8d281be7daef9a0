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
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event

from articles.models import Article, Span, Suggestion
from articles.queue import leases
from articles.site.http import HtmxHttpRequest
from articles.workspace import suggestions, tokens, verbs
from articles.workspace.page import changed_context, pending_suggestions, workspace_context


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
    context = workspace_context(article, js_text=_script_text())
    context["suggestions"] = pending_suggestions(article, context["rows"])
    return render(request, "articles/detail.html", context)


def _script_text() -> dict[str, str]:
    """What the script says, in the editor's language."""
    return {
        "saving": _("Saving…"),
        "notSaved": _("Your change was NOT saved: %(reason)s."),
        "retry": _("Check your connection and try again."),
        "reload": _("Reload the page, then try again."),
        "offline": _("the server did not answer"),
        "timeout": _("the server took too long to answer"),
        "signedOut": _("you are signed out. Sign in again in a new tab, then try again here"),
        "forbidden": _("you may not make this change (403)"),
        "serverError": _("the server failed (%(status)s)"),
        "unexpected": _("the server answered with another page"),
        "chooseSpan": _("Select an entity first (click it, or move to it with the arrow keys)."),
        "chooseText": _("Select some text in the article first, or press t for the text cursor, then pick a label."),
        "sticky": _("Sticky label: %(label)s. Every selection gets it until you turn it off."),
        "stickyOff": _("Sticky label is off."),
        "cursor": _("Text cursor on “%(text)s”: a label key makes it an entity."),
        "noneLeft": _("No more entities that way."),
        "noSuggestions": _("No suggestions for this article."),
    }


class Changed(NamedTuple):
    message: str
    select: int | None  # the span the editor should have selected next
    article: Article | None  # the article as the change left it, if the verb returned it
    # Where the change touched the text (the spans' places before and after it) and the labels whose
    # entity groups it changed; None: all of it.
    extents: list[tuple[int, int]] | None = None
    labels: set[int] | None = None


# A change returns what the editor should see next, or where to go.
Change = Callable[[Article, int], Changed | HttpResponse]

ANSWER = "workspace-answer"


def _answer(response: HttpResponse, article: Article | None, *, saved: bool, select: int | None = None) -> HttpResponse:
    """Marks a response as the workspace's answer to a change: the script applies it (and only such
    answers) and learns the article's version and the entity to select."""
    details = {"saved": saved, "select": select, "version": article.version if article else None}
    # Every region comes out of band; whatever the requesting element says, nothing swaps in place.
    return trigger_client_event(reswap(response, "none"), ANSWER, details, after="swap")


def _expanded(request: HttpRequest) -> set[int]:
    """The labels whose every entity text the editor has listed: their groups stay whole."""
    return {int(value) for value in request.POST.getlist("expanded") if value.isdigit()}


def _change(request: HttpRequest, pk: int, change: Change) -> HttpResponse:
    """Runs one change and answers with the regions it altered, out of band: the text's segments and
    the entity groups it touched, the counts, the messages, the suggestions.

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
        alert = " ".join([str(stale), _("The page now shows the article as it is.")])
        response = _render_changed(request, article, None, None, http_status=409, alert=alert)
        return _answer(response, article, saved=False)
    except (Refused, ValidationError) as refusal:
        status = refusal.status if isinstance(refusal, Refused) else 422
        text = str(refusal) if isinstance(refusal, Refused) else " ".join(refusal.messages)
        context = {"alert": text, "oob": True, "article": Article(pk=pk)}
        if isinstance(refusal, verbs.Overlaps):
            article = _get_article_for_editor(request, pk)
            body = article.body
            context |= {"article": article, "offer": _offer(request, body, refusal.start, refusal.end)}
        return _answer(render(request, "articles/detail.html#messages", context, status=status), None, saved=False)
    if isinstance(result, HttpResponse):
        return result
    if not request.htmx:
        messages.success(request, result.message)
        return redirect("articles:detail", pk=pk)
    article = result.article or _get_article_for_editor(request, pk)
    response = _render_changed(request, article, result.extents, result.labels, status=result.message)
    return _answer(response, article, saved=True, select=result.select)


def _render_changed(
    request: HttpRequest,
    article: Article,
    extents: list[tuple[int, int]] | None,
    labels: set[int] | None,
    *,
    http_status: int = 200,
    **messages_: str,
) -> HttpResponse:
    context = changed_context(article, extents, labels, expanded=_expanded(request), oob=True, **messages_)
    context["suggestions"] = pending_suggestions(article, context["rows"])
    return render(request, "articles/detail.html#changed", context, status=http_status)


def _offer(request: HttpRequest, body: str, start: int, end: int) -> dict:
    """A refused overlapping selection, offered as a replacement of what it overlaps."""
    return {"start": start, "end": end, "label": request.POST.get("label", ""), "text": body[start:end]}


def _described(message: str, span: Span) -> str:
    return message % {"label": span.label.name, "text": span.text}


def _place(span: Span) -> tuple[int, int]:
    return span.start, span.end


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def create_span(request: HttpRequest, pk: int) -> HttpResponse:
    """``replace=1`` deletes the spans the selection overlaps, in the same change."""

    def change(article: Article, version: int) -> Changed:
        # The browser sends the raw selection; the server decides the whole tokens it covers.
        start, end, label = _posted_int(request, "start"), _posted_int(request, "end"), request.POST.get("label", "")
        replace = request.POST.get("replace") == "1"
        span = verbs.create_span(
            article, start, end, label, request.user, version=version, whole_tokens=True, replace=replace
        )
        extents = [_place(span), *map(_place, span.replaced)]
        message = _described(_("Added %(label)s “%(text)s”."), span)
        if span.replaced:
            message = _described(_("Replaced with %(label)s “%(text)s”."), span)
        return Changed(message, span.pk, span.article, extents, None if span.replaced else {span.label_id})

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def relabel_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = Span(pk=span_id, article_id=pk)
        span = verbs.relabel_span(span, request.POST.get("label", ""), request.user, version=version)
        message = _described(_("“%(text)s” is now %(label)s."), span)
        return Changed(message, span.pk, span.article, [_place(span)], {span.label_id, span.previous_label_id})

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def accept_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = verbs.accept_span(Span(pk=span_id, article_id=pk), request.user, version=version)
        message = _described(_("Accepted %(label)s “%(text)s”."), span)
        return Changed(message, span.pk, span.article, [_place(span)], set())

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def accept_all(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirms every entity of the model that no editor has touched yet."""

    def change(article: Article, version: int) -> Changed:
        accepted = verbs.accept_all(article, request.user, version=version)
        if not accepted:
            return Changed(_("Every entity of the model is confirmed already."), None, None, [], set())
        message = ngettext(
            "Accepted %(count)s entity of the model.", "Accepted %(count)s entities of the model.", len(accepted)
        ) % {"count": len(accepted)}
        return Changed(message, None, accepted[0].article, [_place(s) for s in accepted], set())

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def resize_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    """Moves one edge by a token (``edge`` and ``by``) or sets both (``start``, ``end``, snapped to tokens)."""

    def change(article: Article, version: int) -> Changed:
        span = _span_of(_get_article_for_editor(request, pk), span_id)
        before = _place(span)
        if "edge" in request.POST:
            edge, by = request.POST["edge"], _posted_int(request, "by")
            if edge not in {"start", "end"} or by not in {-1, 1}:
                raise Refused(_("Resizing needs edge=start or end and by=-1 or 1."))
            start, end = tokens.step(span.article.body, span.start, span.end, edge, by)
        else:
            start, end = tokens.snap(span.article.body, _posted_int(request, "start"), _posted_int(request, "end"))
        span = verbs.resize_span(span, start, end, request.user, version=version)
        message = _described(_("Resized to “%(text)s”."), span)
        return Changed(message, span.pk, span.article, [before, _place(span)], {span.label_id})

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def delete_span(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        gone = verbs.delete_span(Span(pk=span_id, article_id=pk), request.user, version=version)
        following = gone.article.spans.filter(start__gte=gone.end).values_list("pk", flat=True).first()
        message = _described(_("Deleted %(label)s “%(text)s”."), gone)
        return Changed(message, following, gone.article, [_place(gone)], {gone.label.pk})

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def label_all_occurrences(request: HttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        span = _span_of(_get_article_for_editor(request, pk), span_id)
        added = verbs.label_all_occurrences(span, request.user, version=version)
        values = {"count": len(added), "label": span.label.name, "text": span.text}
        if not added:
            return Changed(_("No other free occurrence of “%(text)s” to label.") % values, span.pk, None, [], set())
        message = _("Labelled %(count)s more “%(text)s” as %(label)s.") % values
        return Changed(message, span.pk, added[0].article, [_place(s) for s in added])

    return _change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def undo(request: HttpRequest, pk: int) -> HttpResponse:
    def change(article: Article, version: int) -> Changed:
        events = verbs.undo(article, request.user, version=version)
        if not events:
            return Changed(_("Nothing to undo: you have not changed this article."), None, None, [], set())
        places = [
            (start, end)
            for event in events
            for start, end in ((event.before_start, event.before_end), (event.after_start, event.after_end))
            if start is not None
        ]
        article = events[0].article
        if len(events) > 1:
            message = ngettext(
                "Undone: your last change, on %(count)s entity.",
                "Undone: your last change, on %(count)s entities.",
                len(events),
            ) % {"count": len(events)}
            return Changed(message, None, article, places)
        event, undone = events[0], events[0].undoes
        # The text the undone change was about: where it put the span, or where a deletion took it.
        start, end = undone.after_start, undone.after_end
        if end is None:
            start, end = undone.before_start, undone.before_end
        values = {"kind": undone.get_kind_display().lower(), "text": article.body[start:end]}
        select = event.span_id if event.after_end else None
        return Changed(_("Undone: %(kind)s “%(text)s”.") % values, select, article, places)

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


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def entity_group(request: HttpRequest, pk: int, label_id: int) -> HttpResponse:
    """Every text of one label in the side list, on demand ("show all")."""
    article = _get_article_for_editor(request, pk)
    context = workspace_context(article, expanded={label_id})
    groups = [group for group in context["entities"] if group.label.pk == label_id]
    if not groups:
        raise Http404(_("No label %(pk)s.") % {"pk": label_id})
    return render(request, "articles/detail.html#entity-group", {**context, "group": groups[0]})


def _get_suggestion_for_editor(request: HttpRequest, pk: int) -> Suggestion:
    return get_object_or_404(Suggestion.objects.select_related("article", "label"), pk=pk)


def _suggestions_response(
    request: HtmxHttpRequest, article: Article, span: Span | None, error: str = ""
) -> HttpResponse:
    """The suggestions, and for an accepted one the regions its span changed, out of band."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("articles:detail", article.pk)
    if span is None:
        context = {"suggestions": pending_suggestions(article), "error": error, "oob": True}
        return _answer(render(request, "articles/_suggestions.html", context), None, saved=not error)
    response = _render_changed(request, article, [_place(span)], None)
    return _answer(response, article, saved=True, select=span.pk)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    suggestion = _get_suggestion_for_editor(request, pk)
    version = request.POST.get("version")
    try:
        span = suggestions.accept_suggestion(suggestion, request.user, version=int(version) if version else None)
    except (ValidationError, verbs.StaleVersion) as error:
        message = error.messages[0] if isinstance(error, ValidationError) else str(error)
        return _suggestions_response(request, suggestion.article, None, message)
    suggestion.article.refresh_from_db()
    return _suggestions_response(request, suggestion.article, span)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_dismiss(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    suggestion = _get_suggestion_for_editor(request, pk)
    try:
        suggestions.dismiss_suggestion(suggestion, request.user)
    except ValidationError as error:
        return _suggestions_response(request, suggestion.article, None, error.messages[0])
    return _suggestions_response(request, suggestion.article, None)

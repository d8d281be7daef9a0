"""The editing workspace: one article's page and every change made on it (htmx, or a plain form)."""

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from articles.editing import suggestions, tokens, verbs
from articles.editing.refusals import BadRequest, Refusal, message_of, status_of
from articles.editing.scope import AnySpan, Scope
from articles.models import Annotation, Article, Suggestion
from articles.queue import leases
from articles.site.http import AuthenticatedHttpRequest, HtmxHttpRequest
from articles.workspace.answers import (
    Changed,
    answer,
    article_or_404,
    described,
    place,
    posted_int,
    render_changed,
    run_change,
    scope_of,
    shown,
    span_of,
    span_ref,
)
from articles.workspace.page import pending_suggestions, workspace_context


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def article_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Opening an article claims nothing: only a POST (a change, "Next article", "Take this article") does."""
    article = article_or_404(pk)
    scope = shown(request.user, article)
    if scope is None:
        slots = Annotation.objects.filter(article=article).count()
        if slots >= 2:
            messages.info(request, _("Two other editors annotate that article, each in a version of their own."))
            return redirect("articles:list")
        return render(request, "articles/claim.html", {"article": article})
    context = workspace_context(scope, js_text=_script_text())
    context["suggestions"] = pending_suggestions(scope, context["rows"])
    return render(request, "articles/detail.html", context)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def claim(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Takes a free slot of an article annotated twice."""
    article = article_or_404(pk)
    if not article.double or article.status == Article.Status.REVIEWED:
        return redirect("articles:detail", pk)
    if Annotation.objects.claim(article, request.user) is None:
        messages.info(request, _("Two other editors annotate that article, each in a version of their own."))
        return redirect("articles:list")
    return redirect("articles:detail", pk)


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


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def create_span(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """``replace=1`` deletes the spans the selection overlaps, in the same change."""

    def change(where: Article | Annotation, version: int) -> Changed:
        # The browser sends the raw selection; the server decides the whole tokens it covers.
        start, end, label = posted_int(request, "start"), posted_int(request, "end"), request.POST.get("label", "")
        replace = request.POST.get("replace") == "1"
        span = verbs.create_span(
            where, start, end, label, request.user, version=version, whole_tokens=True, replace=replace
        )
        replaced: list[AnySpan] = span.replaced  # type: ignore[union-attr]  # set by verbs.create_span
        extents = [place(span), *map(place, replaced)]
        message = described(_("Added %(label)s “%(text)s”."), span)
        if replaced:
            message = described(_("Replaced with %(label)s “%(text)s”."), span)
        return Changed(message, span.pk, span.article, extents, None if replaced else {span.label_id})

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def relabel_span(request: AuthenticatedHttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(where: Article | Annotation, version: int) -> Changed:
        span = verbs.relabel_span(
            span_ref(where, span_id), request.POST.get("label", ""), request.user, version=version
        )
        previous: int = span.previous_label_id  # type: ignore[union-attr]  # set by verbs.relabel_span
        message = described(_("“%(text)s” is now %(label)s."), span)
        return Changed(message, span.pk, span.article, [place(span)], {span.label_id, previous})

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def accept_span(request: AuthenticatedHttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(where: Article | Annotation, version: int) -> Changed:
        span = verbs.accept_span(span_ref(where, span_id), request.user, version=version)
        message = described(_("Accepted %(label)s “%(text)s”."), span)
        return Changed(message, span.pk, span.article, [place(span)], set())

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def accept_all(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Confirms the untouched model spans (``verbs.accept_all``)."""

    def change(where: Article | Annotation, version: int) -> Changed:
        accepted = verbs.accept_all(where, request.user, version=version)
        if not accepted:
            return Changed(_("Every entity of the model is confirmed already."), None, None, [], set())
        message = ngettext(
            "Accepted %(count)s entity of the model.", "Accepted %(count)s entities of the model.", len(accepted)
        ) % {"count": len(accepted)}
        if len(accepted) == verbs.ACCEPT_ALL_MAX:
            left = scope_of(where).spans.untouched_model_output().count()
            if left:
                message += " " + ngettext(
                    "%(count)s more is left: accept all again for it.",
                    "%(count)s more are left: accept all again for them.",
                    left,
                ) % {"count": left}
        return Changed(message, None, accepted[0].article, [place(s) for s in accepted], set())

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def resize_span(request: AuthenticatedHttpRequest, pk: int, span_id: int) -> HttpResponse:
    """Moves one edge by a token (``edge`` and ``by``) or sets both (``start``, ``end``, snapped to tokens)."""

    def change(where: Article | Annotation, version: int) -> Changed:
        span = span_of(where, span_id)
        before = place(span)
        if "edge" in request.POST:
            edge, by = request.POST["edge"], posted_int(request, "by")
            if edge not in {"start", "end"} or by not in {-1, 1}:
                raise BadRequest(_("Resizing needs edge=start or end and by=-1 or 1."))
            start, end = tokens.step(span.article.body, span.start, span.end, edge, by)
        else:
            start, end = tokens.snap(span.article.body, posted_int(request, "start"), posted_int(request, "end"))
        span = verbs.resize_span(span, start, end, request.user, version=version)
        message = described(_("Resized to “%(text)s”."), span)
        return Changed(message, span.pk, span.article, [before, place(span)], {span.label_id})

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def delete_span(request: AuthenticatedHttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(where: Article | Annotation, version: int) -> Changed:
        gone = verbs.delete_span(span_ref(where, span_id), request.user, version=version)
        following = scope_of(where).spans.filter(start__gte=gone.end).values_list("pk", flat=True).first()
        message = described(_("Deleted %(label)s “%(text)s”."), gone)
        return Changed(message, following, gone.article, [place(gone)], {gone.label.pk})

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def label_all_occurrences(request: AuthenticatedHttpRequest, pk: int, span_id: int) -> HttpResponse:
    def change(where: Article | Annotation, version: int) -> Changed:
        span = span_of(where, span_id)
        added = verbs.label_all_occurrences(span, request.user, version=version)
        values = {"count": len(added), "label": span.label.name, "text": span.text}
        if not added:
            return Changed(_("No other free occurrence of “%(text)s” to label.") % values, span.pk, None, [], set())
        message = _("Labelled %(count)s more “%(text)s” as %(label)s.") % values
        return Changed(message, span.pk, added[0].article, [place(s) for s in added])

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def undo(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def change(where: Article | Annotation, version: int) -> Changed:
        reverted = verbs.undo(where, request.user, version=version)
        if not reverted:
            return Changed(_("Nothing to undo: you have not changed this article."), None, None, [], set())
        places = [
            (start, end)
            for event, _undone, _span in reverted
            for start, end in ((event.before_start, event.before_end), (event.after_start, event.after_end))
            if start is not None and end is not None
        ]
        article = reverted[0].event.article
        if len(reverted) > 1:
            message = ngettext(
                "Undone: your last change, on %(count)s entity.",
                "Undone: your last change, on %(count)s entities.",
                len(reverted),
            ) % {"count": len(reverted)}
            return Changed(message, None, article, places)
        event, undone, _span = reverted[0]
        # The text the undone change was about: where it put the span, or where a deletion took it.
        start, end = undone.after_start, undone.after_end
        if end is None:
            start, end = undone.before_start, undone.before_end
        values = {"kind": undone.get_kind_display().lower(), "text": article.body[start:end]}
        select = event.span_id if event.after_end else None
        return Changed(_("Undone: %(kind)s “%(text)s”.") % values, select, article, places)

    return run_change(request, pk, change)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def mark_reviewed(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    def change(where: Article | Annotation, version: int) -> HttpResponse:
        article = verbs.mark_reviewed(where, request.user, version=version)
        if isinstance(where, Annotation):
            message = _("Your version of “%(title)s” is finished; a reviewer settles it with the other editor’s.")
        else:
            message = _("“%(title)s” is reviewed.")
        messages.success(request, message % {"title": article.title or _("(untitled)")})
        following = leases.next_url(request, after_id=pk)
        return HttpResponseClientRedirect(following) if request.htmx else redirect(following)

    return run_change(request, pk, change)


@require_GET
@permission_required("articles.review_article", raise_exception=True)
def entity_group(request: AuthenticatedHttpRequest, pk: int, label_id: int) -> HttpResponse:
    """Every text of one label in the side list, on demand ("show all")."""
    scope = shown(request.user, article_or_404(pk))
    if scope is None:
        raise Http404(_("No article %(pk)s.") % {"pk": pk})
    context = workspace_context(scope, expanded={label_id})
    groups = [group for group in context["entities"] if group.label.pk == label_id]
    if not groups:
        raise Http404(_("No label %(pk)s.") % {"pk": label_id})
    return render(request, "articles/detail.html#entity-group", {**context, "group": groups[0]})


def _suggestion_or_404(pk: int) -> Suggestion:
    """The gate decides under the article's lock (``suggestions._locked``)."""
    return get_object_or_404(Suggestion.objects.select_related("article", "label"), pk=pk)


def _suggestions_response(
    request: HtmxHttpRequest, article: Article, span: AnySpan | None, error: str = "", status: int = 200
) -> HttpResponse:
    """The suggestions, and for an accepted one the regions its span changed, out of band."""
    if not request.htmx:
        if error:
            messages.error(request, error)
        return redirect("articles:detail", article.pk)
    scope = Scope(article)
    if span is None:
        context = {"suggestions": pending_suggestions(scope), "error": error, "oob": True, "article": article}
        return answer(render(request, "articles/_suggestions.html", context, status=status), None, saved=not error)
    response = render_changed(request, scope, [place(span)], None)
    return answer(response, scope, saved=True, select=span.pk)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_accept(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    suggestion = _suggestion_or_404(pk)
    try:
        if "version" not in request.POST:
            raise BadRequest(_("The request does not say which version of the article it changes (field “version”)."))
        span = suggestions.accept_suggestion(suggestion, request.user, version=posted_int(request, "version"))
    except (Refusal, ValidationError) as refusal:
        return _refused_suggestion(request, suggestion, refusal)
    suggestion.article.refresh_from_db()
    return _suggestions_response(request, suggestion.article, span)


@require_POST
@permission_required("articles.review_article", raise_exception=True)
def suggestion_dismiss(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    suggestion = _suggestion_or_404(pk)
    try:
        suggestions.dismiss_suggestion(suggestion, request.user)
    except (Refusal, ValidationError) as refusal:
        return _refused_suggestion(request, suggestion, refusal)
    return _suggestions_response(request, suggestion.article, None)


def _refused_suggestion(request: HtmxHttpRequest, suggestion: Suggestion, refusal: Exception) -> HttpResponse:
    status = status_of(refusal)
    if status == 403:  # not theirs: nothing of the article is shown
        raise PermissionDenied(message_of(refusal))
    return _suggestions_response(request, suggestion.article, None, message_of(refusal), status)

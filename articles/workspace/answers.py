"""How the workspace answers a change: the regions it altered, out of band, or the refusal."""

from collections.abc import Callable
from typing import NamedTuple, Unpack

from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django_htmx.http import reswap, trigger_client_event

from articles.editing import gate, verbs
from articles.editing.refusals import BadRequest, Gone, Refusal, message_of, status_of
from articles.editing.scope import AnySpan, Scope, stored_span
from articles.models import Annotation, Article, Span, VersionSpan
from articles.site.http import AuthenticatedHttpRequest
from articles.workspace.page import Messages, changed_context, pending_suggestions


def article_or_404(pk: int) -> Article:
    return get_object_or_404(Article.objects.select_related("updated_by", "reviewed_by"), pk=pk)


def posted_int(request: HttpRequest, name: str) -> int:
    value = request.POST.get(name, "")
    try:
        return int(value)
    except ValueError:
        raise BadRequest(
            _("The field “%(name)s” must be a whole number; got “%(value)s”.") % {"name": name, "value": value[:40]}
        ) from None


def shown(user: User, article: Article) -> Scope | None:
    """The article's spans, or the user's own version; None if annotated twice and the user holds no
    version and may not adjudicate. Reading never claims anything."""
    if not article.double or article.status == Article.Status.REVIEWED:
        return Scope(article)
    annotation = Annotation.objects.of(article, user)
    if annotation is not None:
        return Scope(article, annotation)
    return Scope(article) if user.has_perm(gate.ADJUDICATE) else None


def scope_of(where: Article | Annotation) -> Scope:
    """The scope as stored now, loaded for the page."""
    if isinstance(where, Annotation):
        annotation = Annotation.objects.select_related("article", "article__updated_by").get(pk=where.pk)
        return Scope(annotation.article, annotation)
    return Scope(get_object_or_404(Article.objects.select_related("updated_by", "reviewed_by"), pk=where.pk))


def span_ref(where: Article | Annotation, span_id: int) -> AnySpan:
    if isinstance(where, Annotation):
        return VersionSpan(pk=span_id, annotation_id=where.pk, article_id=where.article_id)
    return Span(pk=span_id, article_id=where.pk)


def span_of(where: Article | Annotation, span_id: int) -> AnySpan:
    """The span as stored now, before its verb locks it; one that is gone answers 404."""
    try:
        return stored_span(scope_of(where), span_id)
    except ValidationError as missing:
        raise Gone(missing.messages[0]) from None


class Changed(NamedTuple):
    message: str
    select: int | None  # the span the editor should have selected next
    article: Article | None  # the article as the change left it, if the verb returned it
    # The spans' places before and after the change, and the labels it touched; None: all of it.
    extents: list[tuple[int, int]] | None = None
    labels: set[int] | None = None


Change = Callable[[Article | Annotation, int], Changed | HttpResponse]

ANSWER = "workspace-answer"


def answer(response: HttpResponse, scope: Scope | None, *, saved: bool, select: int | None = None) -> HttpResponse:
    """Marks a response as the answer to a change, with the version and the entity to select."""
    details = {"saved": saved, "select": select, "version": scope.version if scope else None}
    # Every region comes out of band; whatever the requesting element says, nothing swaps in place.
    return trigger_client_event(reswap(response, "none"), ANSWER, details, after="swap")


def expanded(request: HttpRequest) -> set[int]:
    """The labels whose every entity text the editor has listed: their groups stay whole."""
    return {int(value) for value in request.POST.getlist("expanded") if value.isdigit()}


def run_change(request: AuthenticatedHttpRequest, pk: int, change: Change) -> HttpResponse:
    """Runs one change and answers with the regions it altered; a refusal answers 4xx with the
    reason, and a stale version also refreshes the editor's view. Before the verbs lock, only
    ``gate.where`` reads ids.
    """
    try:
        if "version" not in request.POST:
            raise BadRequest(_("The request does not say which version of the article it changes (field “version”)."))
        version = posted_int(request, "version")
        where = gate.where(request.user, pk)
        result = change(where, version)
    except (Article.DoesNotExist, Annotation.DoesNotExist):
        raise Http404(_("No article %(pk)s.") % {"pk": pk}) from None
    except verbs.StaleVersion as stale:
        scope = scope_of(where)
        alert = " ".join([str(stale), _("The page now shows the article as it is.")])
        response = render_changed(request, scope, None, None, http_status=409, alert=alert)
        return answer(response, scope, saved=False)
    except (Refusal, ValidationError) as refusal:
        context = {"alert": message_of(refusal), "oob": True, "article": Article(pk=pk)}
        if isinstance(refusal, verbs.Overlaps):
            article = article_or_404(pk)
            context |= {"article": article, "offer": offer(request, article.body, refusal.start, refusal.end)}
        response = render(request, "articles/detail.html#messages", context, status=status_of(refusal))
        return answer(response, None, saved=False)
    if isinstance(result, HttpResponse):
        return result
    if not request.htmx:
        messages.success(request, result.message)
        return redirect("articles:detail", pk=pk)
    scope = Scope(result.article) if result.article and isinstance(where, Article) else scope_of(where)
    response = render_changed(request, scope, result.extents, result.labels, status=result.message)
    return answer(response, scope, saved=True, select=result.select)


def render_changed(
    request: HttpRequest,
    scope: Scope,
    extents: list[tuple[int, int]] | None,
    labels: set[int] | None,
    *,
    http_status: int = 200,
    **messages_: Unpack[Messages],
) -> HttpResponse:
    context = changed_context(scope, extents, labels, expanded=expanded(request), **messages_)
    context["suggestions"] = pending_suggestions(scope, context["rows"])
    return render(request, "articles/detail.html#changed", context, status=http_status)


def offer(request: HttpRequest, body: str, start: int, end: int) -> dict[str, int | str]:
    """A refused overlapping selection, offered as a replacement of what it overlaps."""
    return {"start": start, "end": end, "label": request.POST.get("label", ""), "text": body[start:end]}


def described(message: str, span: AnySpan) -> str:
    return message % {"label": span.label.name, "text": span.text}


def place(span: AnySpan) -> tuple[int, int]:
    return span.start, span.end

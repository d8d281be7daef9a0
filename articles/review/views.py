"""Team review's pages: articles waiting for adjudication, the sample's share, and adjudication."""

from typing import NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from articles.editing import gate
from articles.editing.refusals import Refusal, message_of, status_of
from articles.editing.scope import Scope
from articles.models import Article, Decision, ImportBatch, Label, ReviewPolicy
from articles.review import adjudication, versions
from articles.review.disagreements import Disagreement
from articles.site.http import AuthenticatedHttpRequest, HtmxHttpRequest
from articles.workspace.page import rows_of, segments

RECENT_BATCHES = 20


@require_GET
@permission_required("articles.adjudicate_article", raise_exception=True)
def review_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    sample = Article.objects.filter(double=True)
    progress = sample.aggregate(
        articles=Count("pk"),
        reviewed=Count("pk", filter=Q(status=Article.Status.REVIEWED)),
    )
    context = {
        "waiting": list(Article.objects.awaiting_adjudication().order_by("pk").only("pk", "title")[:100]),
        "progress": progress,
        "policy": ReviewPolicy.current(),
        "batches": ImportBatch.objects.all()[:RECENT_BATCHES],
    }
    return render(request, "articles/review.html", context)


def _share(request: HttpRequest) -> int:
    value = request.POST.get("share", "")
    if not value.isdigit() or not 0 <= int(value) <= 100:
        raise ValidationError(
            _("The share is a whole number of per cent, 0 to 100; got “%(value)s”.") % {"value": value[:20]}
        )
    return int(value)


@require_POST
@permission_required("articles.import_articles", raise_exception=True)
def review_share(request: AuthenticatedHttpRequest) -> HttpResponse:
    batch = None
    if request.POST.get("batch"):
        batch = get_object_or_404(ImportBatch, pk=request.POST["batch"]) if request.POST["batch"].isdigit() else None
        if batch is None:
            messages.error(request, _("No such batch."))
            return redirect("articles:review")
    try:
        share = _share(request)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("articles:review")
    sampled = versions.set_share(share, batch=batch, user=request.user)
    where = batch.name if batch else _("the corpus")
    messages.success(
        request,
        _("%(share)s %% of %(where)s is annotated twice: %(count)s articles not started yet are in the sample.")
        % {"share": share, "where": where, "count": sampled},
    )
    return redirect("articles:review")


def _get_article_for_reviewer(request: AuthenticatedHttpRequest, pk: int) -> Article:
    """An article of the double-annotation sample that this reviewer may adjudicate: 404 for another
    article, 403 for one of its two editors."""
    article = get_object_or_404(Article.objects.select_related("updated_by"), pk=pk, double=True)
    try:
        gate.check_adjudicator(article, request.user)
    except Refusal as refusal:
        raise PermissionDenied(str(refusal)) from None
    return article


class ShownDisagreement(NamedTuple):
    """A disagreement as the page lists it: each side's texts with their labels, and its decision."""

    disagreement: Disagreement
    first: list[tuple[str, str]]
    second: list[tuple[str, str]]
    decision: Decision | None


def _context(article: Article, found: adjudication.Versions, **extra: str) -> dict[str, object]:
    body = article.body
    shown = [
        ShownDisagreement(
            d,
            [(body[s.start : s.end], s.label) for s in d.first],
            [(body[s.start : s.end], s.label) for s in d.second],
            found.decisions.get((d.start, d.end)),
        )
        for d in found.disagreements
    ]
    labels = list(Label.objects.all())
    by_pk = {label.pk: label for label in labels}
    columns = []
    for annotation in (found.first, found.second):
        scope = Scope(article, annotation)
        columns.append((annotation, segments(scope, rows_of(scope), by_pk)))
    return {
        "article": article,
        "found": found,
        "disagreements": shown,
        "columns": columns,
        "labels": labels,
        "settled": len(found.disagreements) - len(found.unsettled),
        **extra,
    }


@require_GET
@permission_required("articles.adjudicate_article", raise_exception=True)
def adjudicate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    article = _get_article_for_reviewer(request, pk)
    try:
        found = adjudication.versions(article)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("articles:review")
    return render(request, "articles/adjudicate.html", _context(article, found))


def _posted_int(request: HttpRequest, name: str) -> int | None:
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else None


def _refused(request: HtmxHttpRequest, article: Article, message: str, status: int) -> HttpResponse:
    if not request.htmx:
        messages.error(request, message)
        return redirect("articles:adjudicate", article.pk)
    response = render(request, "articles/adjudicate.html#alert", {"alert": message}, status=status)
    return reswap(retarget(response, "#adjudication-alert"), "outerHTML")


@require_POST
@permission_required("articles.adjudicate_article", raise_exception=True)
def decide(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Settles one disagreement (``start``, ``end``): ``side`` 1 or 2, or "edited" to do it by hand."""
    article = _get_article_for_reviewer(request, pk)
    start, end, version = (_posted_int(request, name) for name in ("start", "end", "version"))
    if start is None or end is None or version is None:
        return _refused(request, article, _("A decision needs the disagreement's start and end and the version."), 400)
    try:
        decision = adjudication.take_side(
            article, start, end, request.POST.get("side", ""), request.user, version=version
        )
    except (Refusal, ValidationError) as refusal:
        return _refused(request, article, message_of(refusal), status_of(refusal))
    if decision.choice == decision.Choice.EDITED:
        url = reverse("articles:detail", args=[pk])
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    article.refresh_from_db()
    context = _context(
        article,
        adjudication.versions(article),
        status=_("Settled: %(choice)s.") % {"choice": decision.get_choice_display()},
    )
    if not request.htmx:
        return redirect("articles:adjudicate", pk)
    return render(request, "articles/adjudicate.html#decisions", context)


@require_POST
@permission_required("articles.adjudicate_article", raise_exception=True)
def finish(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    article = _get_article_for_reviewer(request, pk)
    version = _posted_int(request, "version")
    if version is None:
        return _refused(request, article, _("Finishing needs the version of the article you saw."), 400)
    try:
        adjudication.finish(article, request.user, version=version)
    except (Refusal, ValidationError) as refusal:
        return _refused(request, article, message_of(refusal), status_of(refusal))
    messages.success(request, _("“%(title)s” is adjudicated and reviewed.") % {"title": article.title})
    following = Article.objects.awaiting_adjudication().order_by("pk").values_list("pk", flat=True).first()
    url = reverse("articles:adjudicate", args=[following]) if following else reverse("articles:review")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)

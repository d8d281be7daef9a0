"""The quality page: the model against the editors, their effort, the retrained models; and retraining."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from articles.models import Article
from articles.nlp.training import train_model
from articles.quality import charts, figures


def _quality_context(computed: dict) -> dict:
    model, reference = computed["model"], computed["reference"]
    series = [_("precision"), _("recall"), "F1"]

    def bars(rows: list[dict], match: str) -> list[tuple[str, list[float | None]]]:
        return [(row["label"] or "—", [row[match]["p"], row[match]["r"], row[match]["f"]]) for row in rows]

    rows = [{"label": _("overall"), **model["overall"]}, *model["labels"]]
    days = sorted({row["day"] for row in model["over_time"]})
    versions: dict[str, list[float | None]] = {}
    for row in model["over_time"]:
        line = versions.setdefault(row["model"] or _("unknown"), [None] * len(days))
        line[days.index(row["day"])] = row["exact"]["f"]
    effort = computed["effort"]
    return {
        "model": model,
        "reference": reference,
        "effort": effort,
        "training": computed["training"],
        "rows": rows,
        "reference_rows": [{"label": _("overall"), **reference["overall"]}],
        "exact_chart": charts.grouped_bars(_("Exact match per label"), bars(rows, "exact"), series),
        "overlap_chart": charts.grouped_bars(_("Overlap match per label"), bars(rows, "overlap"), series),
        "time_chart": charts.lines(_("Exact F1 by day of review, per model version"), days, versions),
        "day_chart": charts.columns(
            _("Articles reviewed per day"), [(row["day"], row["reviewed"]) for row in effort["per_day"]]
        ),
        "statuses": [(status, effort["status"].get(status.value, 0)) for status in Article.Status],
        **_agreement_context(computed.get("agreement")),
    }


def _agreement_context(agreement: dict | None) -> dict:
    """Two editors' agreement on the articles both annotated (figures computed before it was measured
    have none)."""
    if not agreement:
        return {"agreement": None}
    days = [row["day"] for row in agreement["over_time"]]
    lines = {
        _("exact F1"): [row["overall"]["exact"] for row in agreement["over_time"]],
        "kappa": [row["kappa"] for row in agreement["over_time"]],
    }
    return {
        "agreement": agreement,
        "agreement_chart": charts.lines(
            _("Agreement between editors, by day the second version was finished"), days, lines
        ),
    }


@require_GET
@permission_required("articles.view_quality", raise_exception=True)
def quality_page(request: HttpRequest) -> HttpResponse:
    snapshot = figures.cached()
    if snapshot is None:
        snapshot = figures.refresh()
    elif figures.is_stale(snapshot) and figures.claim_refresh(snapshot):
        figures.refresh_quality.enqueue()
        snapshot.refresh_requested_at = timezone.now()
    context = {"snapshot": snapshot, **_quality_context(snapshot.figures)}
    return render(request, "articles/quality.html", context)


@require_POST
@permission_required("articles.train_model", raise_exception=True)
def quality_train(request: HttpRequest) -> HttpResponse:
    reviewed = Article.objects.filter(status=Article.Status.REVIEWED).count()
    minimum = settings.TRAIN_MIN_ARTICLES
    if reviewed < minimum:
        messages.error(
            request,
            _("Retraining needs at least %(minimum)d reviewed articles; there are %(reviewed)d: review %(more)d more.")
            % {"minimum": minimum, "reviewed": reviewed, "more": minimum - reviewed},
        )
    else:
        train_model.enqueue(user_id=request.user.pk, force=request.POST.get("force") == "1")
        messages.success(
            request,
            _(
                "Retraining on %(reviewed)d reviewed articles is queued; "
                "the new model replaces the current one only if it scores better."
            )
            % {"reviewed": reviewed},
        )
    return redirect("articles:quality")

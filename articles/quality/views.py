"""The quality page: the model against the editors, their effort, the retrained models; and retraining."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from articles.models import Article, TrainingRun
from articles.nlp import training, training_runs
from articles.quality import charts, figures
from articles.site.http import AuthenticatedHttpRequest


def _quality_context(computed: dict[str, Any]) -> dict[str, Any]:
    model, reference = computed["model"], computed["reference"]
    series = [_("precision"), _("recall"), "F1"]

    def bars(rows: list[dict[str, Any]], match: str) -> list[tuple[str, list[float | None]]]:
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


def _agreement_context(agreement: dict[str, Any] | None) -> dict[str, Any]:
    """Two editors' agreement on the articles both annotated; older cached figures lack it."""
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


def _training_context() -> dict[str, Any]:
    """The retrained models and the training under way: read on every visit, not cached with the figures."""
    history = figures.training_history()
    oldest_first = history[::-1]
    labels = sorted({label for m in history for label in m["scores"]["new"]["per_label"]})
    series = {_("overall"): [m["scores"]["new"]["f"] for m in oldest_first]}
    for label in labels:
        series[label] = [m["scores"]["new"]["per_label"].get(label, {}).get("f") for m in oldest_first]
    # Version and day; the active one starred.
    xs = [f"v{m['version']}{'*' if m['active'] else ''} · {m['created_at'][5:10]}" for m in oldest_first]
    chart = charts.lines(_("Held-out F1 of each retrained model, overall and per label"), xs, series)
    return {
        "training": history,
        "versions_chart": chart if history else None,
        "min_label_spans": training.MIN_LABEL_SPANS,
        "few_held_out_spans": training.FEW_HELD_OUT_SPANS,
        **_run_context(),
    }


def _run_context() -> dict[str, Any]:
    run = training_runs.latest()
    stale = run is not None and training_runs.is_stale(run)
    live = run is not None and run.status in TrainingRun.LIVE and not stale
    curve = (run.progress.get("curve") or []) if run else []
    return {"run": run, "run_live": live, "run_stale": stale, "run_curve": curve}


@require_GET
@permission_required("articles.view_quality", raise_exception=True)
def quality_page(request: HttpRequest) -> HttpResponse:
    snapshot = figures.cached()
    if snapshot is None:
        snapshot = figures.refresh()
    elif figures.is_stale(snapshot) and figures.claim_refresh(snapshot):
        figures.refresh_quality.enqueue()
        snapshot.refresh_requested_at = timezone.now()
    context = {"snapshot": snapshot, **_quality_context(snapshot.figures), **_training_context()}
    return render(request, "articles/quality.html", context)


@require_GET
@permission_required("articles.view_quality", raise_exception=True)
def training_progress(request: HttpRequest) -> HttpResponse:
    """The quality page's training box, polled by HTMX while a training is queued or runs."""
    return render(request, "articles/quality.html#training-progress", _run_context())


@require_POST
@permission_required("articles.train_model", raise_exception=True)
def quality_train(request: AuthenticatedHttpRequest) -> HttpResponse:
    reviewed = Article.objects.filter(status=Article.Status.REVIEWED).count()
    minimum = training.articles_needed()
    if reviewed < minimum:
        messages.error(
            request,
            _("Retraining needs at least %(minimum)d reviewed articles; there are %(reviewed)d: review %(more)d more.")
            % {"minimum": minimum, "reviewed": reviewed, "more": minimum - reviewed},
        )
        return redirect("articles:quality")
    try:
        training.queue(request.user, force=request.POST.get("force") == "1")
    except training.TrainingRefused as refused:
        messages.error(request, _refusal(refused.run))
    else:
        messages.success(
            request,
            _(
                "Retraining on %(reviewed)d reviewed articles is queued; "
                "the new model replaces the current one only if it scores better."
            )
            % {"reviewed": reviewed},
        )
    return redirect("articles:quality")


def _refusal(other: TrainingRun | None) -> str:
    if other is None:
        return _("Another training started at the same moment; wait for it to finish.")
    values = {
        "who": other.created_by.get_username() if other.created_by else _("the command line"),
        "when": formats.date_format(timezone.localtime(other.created_at), "SHORT_DATETIME_FORMAT"),
    }
    if other.status == TrainingRun.Status.QUEUED:
        return _("A training queued by %(who)s at %(when)s is waiting for a worker; wait for it to finish.") % values
    return _("A training started by %(who)s at %(when)s is still running; wait for it to finish.") % values

"""How good the model's proposals are against what editors kept, and what review cost them.

The model's proposal is the actor-less ``created`` history of an article's latest pre-annotation;
the editors' answer is its spans once reviewed (docs/quality.md). PostgreSQL computes; Python divides.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, Q
from django.tasks import task
from django.utils import timezone

from articles.models import Article, QualitySnapshot, Span, SpanEvent, TrainedModel
from articles.review.agreement import agreement

SNAPSHOT_KEY = "figures"
# Figures older than this are recomputed in the background even if no span changed (reviews, imports).
MAX_AGE = timedelta(minutes=5)
# A background refresh is requested at most this often.
REFRESH_INTERVAL = timedelta(minutes=1)
# Time between two changes by the same editor on the same article counts up to this much: a longer
# pause is a coffee, not review.
GAP_CAP = timedelta(minutes=5)
TOP_CORRECTIONS = 10
TOP_ARTICLES = 20
EXAMPLES = 3
WORK_MEM = "64MB"
CORRECTION_KINDS = ["missed", "spurious", "wrong_label", "wrong_boundary"]

_SQL = Path(__file__).parent / "sql"
# Each statement's comment says what the caller fills in.
_COMPARE = (_SQL / "compare.sql").read_text()
_EFFORT = (_SQL / "effort.sql").read_text()

# The enum values the statements compare with, as parameters.
_VALUES = {"created": SpanEvent.Kind.CREATED, "model": Span.Origin.MODEL, "reviewed": Article.Status.REVIEWED}

_REVIEWED = {
    "scope": "a.status = %(reviewed)s",
    "pred_label": "e.after_label",
    "gold": """SELECT s.id, s.article_id, s.start AS lo, s."end" AS hi, l.name AS label
               FROM articles_span s JOIN articles_label l ON l.id = s.label_id""",
}
# The seeds' highlights carry no label: edges only.
_REFERENCE = {
    "scope": "EXISTS (SELECT 1 FROM articles_referencespan r WHERE r.article_id = a.id)",
    "pred_label": "''",
    "gold": """SELECT id, article_id, start AS lo, "end" AS hi, '' AS label FROM articles_referencespan""",
}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _scores(pred: dict[str, Any] | None, gold: dict[str, Any] | None) -> dict[str, Any]:
    """Precision, recall and F1 for exact and overlap matching from the pred and gold counts."""
    pred = pred or {"n": 0, "exact": 0, "overlap": 0}
    gold = gold or {"n": 0, "exact": 0, "overlap": 0}
    out: dict[str, Any] = {"predicted": pred["n"], "expected": gold["n"]}
    for match in ("exact", "overlap"):
        p, r = _ratio(pred[match], pred["n"]), _ratio(gold[match], gold["n"])
        f = 2 * p * r / (p + r) if p is not None and r is not None and p + r else (0.0 if p is not None else None)
        out[match] = {"p": p, "r": r, "f": f}
    return out


def _sql(sql: str, params: dict[str, Any] | None = None) -> Any:
    """One statement returning one JSON value, with work_mem enough not to spill to disk."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def compare(scope: dict[str, str]) -> dict[str, Any]:
    raw = _sql(_COMPARE.format(**scope, top=TOP_CORRECTIONS, examples=EXAMPLES), _VALUES)
    overall: dict[str, dict[str, Any]] = {}
    labels: dict[str, dict[str, dict[str, Any]]] = {}
    series: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for row in raw["counts"]:
        if row["no_label"] and row["no_model"]:
            overall[row["side"]] = row
        elif not row["no_label"]:
            labels.setdefault(row["label"], {})[row["side"]] = row
        else:
            series.setdefault((row["model"] or "", row["day"] or ""), {})[row["side"]] = row
    corrections: dict[str, dict[str, Any]] = {kind: {"total": 0, "top": []} for kind in CORRECTION_KINDS}
    for row in raw["corrections"]:
        corrections[row["kind"]]["total"] = int(row["total"])
        corrections[row["kind"]]["top"].append(
            {key: row[key] for key in ("text", "label", "model_text", "model_label", "n", "articles")}
        )
    return {
        "articles": raw["articles"],
        "overall": _scores(overall.get("pred"), overall.get("gold")),
        "labels": [
            {"label": name, **_scores(sides.get("pred"), sides.get("gold"))} for name, sides in sorted(labels.items())
        ],
        "over_time": [
            {"model": model, "day": day, **_scores(sides.get("pred"), sides.get("gold"))}
            for (model, day), sides in sorted(series.items(), key=lambda item: (item[0][1], item[0][0]))
        ],
        "corrections": corrections,
    }


def model_quality() -> dict[str, Any]:
    """The model against the editors' final spans of reviewed articles."""
    return compare(_REVIEWED)


def reference_quality() -> dict[str, Any]:
    """The model against the highlights that came with the articles (the seeds): edges only, no labels."""
    return compare(_REFERENCE)


def effort() -> dict[str, Any]:
    """Changes and time per editor and per article, and the progress of review."""
    users = get_user_model()._meta
    sql = _EFFORT.format(users=connection.ops.quote_name(users.db_table), username=users.get_field("username").column)
    kinds = {kind: kind for kind in SpanEvent.Kind.values}
    figures: dict[str, Any] = _sql(sql, {**_VALUES, **kinds, "cap": GAP_CAP, "top": TOP_ARTICLES})
    return figures


def compute() -> dict[str, Any]:
    return {
        "model": model_quality(),
        "reference": reference_quality(),
        "effort": effort(),
        "agreement": agreement(),
    }


def training_history(limit: int = 20) -> list[dict[str, Any]]:
    """The retrained models, newest first: when, what each learnt from, its held-out scores, which is active."""
    return [
        {
            "model": str(m),
            "version": m.version,
            "active": m.active,
            "created_at": m.created_at.isoformat(),
            "train_articles": m.train_articles,
            "dev_articles": m.dev_articles,
            "learnt_from": m.learnt_from or {"articles": m.train_articles, "spans": None, "per_label": {}},
            "dev_spans": sum(m.dev_spans.values()) if m.dev_spans else None,
            "skipped_labels": m.skipped_labels,
            "scores": m.scores,
        }
        for m in TrainedModel.objects.all()[:limit]
    ]


def fingerprint() -> str:
    """Changes whenever a span changes anywhere (the history only grows)."""
    return str(SpanEvent.objects.aggregate(last=Max("id"))["last"] or 0)


def refresh() -> QualitySnapshot:
    mark = fingerprint()
    figures = compute()
    snapshot, _ = QualitySnapshot.objects.update_or_create(
        key=SNAPSHOT_KEY,
        defaults={"figures": figures, "fingerprint": mark, "computed_at": timezone.now(), "refresh_requested_at": None},
    )
    return snapshot


def cached() -> QualitySnapshot | None:
    return QualitySnapshot.objects.filter(key=SNAPSHOT_KEY).first()


def is_stale(snapshot: QualitySnapshot) -> bool:
    return snapshot.fingerprint != fingerprint() or timezone.now() - snapshot.computed_at > MAX_AGE


def claim_refresh(snapshot: QualitySnapshot) -> bool:
    """True for the one request that should queue a refresh; the others within REFRESH_INTERVAL get False."""
    now = timezone.now()
    return bool(
        QualitySnapshot.objects.filter(pk=snapshot.pk)
        .filter(Q(refresh_requested_at__isnull=True) | Q(refresh_requested_at__lt=now - REFRESH_INTERVAL))
        .update(refresh_requested_at=now)
    )


@task()
def refresh_quality() -> str:
    """Recomputes the quality page's figures; returns when they were computed."""
    return refresh().computed_at.isoformat()

"""How good the model's proposals are, measured against what editors kept, and what review cost them.

The model's proposal for an article is recoverable from the history: the ``created`` events without
an actor of its latest pre-annotation run (``store_model_spans`` writes them, all with the same
article version). The editors' answer is the article's spans once it is reviewed. Everything is
computed by PostgreSQL in a few set-based statements; Python only divides.

Matching: *exact* means same start, end and label; *overlap* means the ranges share a character and
the labels agree. A model span is correct if it matches an editor's span; an editor's span is found
if a model span matches it. Corrections are classified per overlapping pair: another label
(``wrong_label``), the same label with other edges (``wrong_boundary``); an editor's span overlapping
no model span was ``missed``, a model span overlapping no editor's span was ``spurious``.
"""

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from articles.models import QualitySnapshot, SpanEvent, TrainedModel

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

# {scope}: which articles are compared; {pred_label}: the model's label, or '' to compare edges only;
# {gold}: rows (id, article_id, lo, hi, label) of the yardstick.
_COMPARE = """
WITH runs AS (
    SELECT DISTINCT ON (e.article_id) e.article_id, e.article_version AS version, e.model, a.reviewed_at
    FROM articles_spanevent e JOIN articles_article a ON a.id = e.article_id
    WHERE ({scope}) AND e.kind = 'created' AND e.actor_id IS NULL AND e.origin = 'model'
    ORDER BY e.article_id, e.article_version DESC
),
pred AS (
    SELECT e.id, e.article_id, e.after_start AS lo, e.after_end AS hi, {pred_label} AS label, r.model, r.reviewed_at
    FROM articles_spanevent e JOIN runs r ON r.article_id = e.article_id AND r.version = e.article_version
    WHERE e.kind = 'created' AND e.actor_id IS NULL AND e.origin = 'model'
),
gold AS (
    SELECT g.id, g.article_id, g.lo, g.hi, g.label, r.model, r.reviewed_at
    FROM ({gold}) g JOIN runs r ON r.article_id = g.article_id
),
pairs AS (
    SELECT p.id AS pid, g.id AS gid, p.article_id, p.lo AS plo, p.hi AS phi, p.label AS plabel,
           g.lo AS glo, g.hi AS ghi, g.label AS glabel
    FROM pred p JOIN gold g ON g.article_id = p.article_id AND g.lo < p.hi AND p.lo < g.hi
),
pred_hits AS (
    SELECT pid AS id, bool_or(plo = glo AND phi = ghi AND plabel = glabel) AS exact, bool_or(plabel = glabel) AS overlap
    FROM pairs GROUP BY pid
),
gold_hits AS (
    SELECT gid AS id, bool_or(plo = glo AND phi = ghi AND plabel = glabel) AS exact, bool_or(plabel = glabel) AS overlap
    FROM pairs GROUP BY gid
),
flags AS (
    SELECT 'pred' AS side, p.id, p.article_id, p.lo, p.hi, p.label, p.model, p.reviewed_at,
           coalesce(h.exact, false) AS exact, coalesce(h.overlap, false) AS overlap, h.id IS NOT NULL AS touches
    FROM pred p LEFT JOIN pred_hits h ON h.id = p.id
    UNION ALL
    SELECT 'gold', g.id, g.article_id, g.lo, g.hi, g.label, g.model, g.reviewed_at,
           coalesce(h.exact, false), coalesce(h.overlap, false), h.id IS NOT NULL
    FROM gold g LEFT JOIN gold_hits h ON h.id = g.id
),
counts AS (
    SELECT side, label, model, reviewed_at::date AS day,
           GROUPING(label) AS no_label, GROUPING(model) AS no_model,
           count(*) AS n, count(*) FILTER (WHERE exact) AS exact, count(*) FILTER (WHERE overlap) AS overlap
    FROM flags
    GROUP BY side, GROUPING SETS ((), (label), (model, reviewed_at::date))
),
corrections AS (
    SELECT 'missed' AS kind, f.article_id, substr(a.body, f.lo + 1, f.hi - f.lo) AS text, f.label,
           NULL AS model_text, NULL AS model_label
    FROM flags f JOIN articles_article a ON a.id = f.article_id WHERE f.side = 'gold' AND NOT f.touches
    UNION ALL
    SELECT 'spurious', f.article_id, NULL, NULL, substr(a.body, f.lo + 1, f.hi - f.lo), f.label
    FROM flags f JOIN articles_article a ON a.id = f.article_id WHERE f.side = 'pred' AND NOT f.touches
    UNION ALL
    SELECT CASE WHEN x.plabel <> x.glabel THEN 'wrong_label' ELSE 'wrong_boundary' END, x.article_id,
           substr(a.body, x.glo + 1, x.ghi - x.glo), x.glabel, substr(a.body, x.plo + 1, x.phi - x.plo), x.plabel
    FROM pairs x JOIN articles_article a ON a.id = x.article_id
    WHERE x.plabel <> x.glabel OR x.plo <> x.glo OR x.phi <> x.ghi
),
ranked AS (
    SELECT kind, text, label, model_text, model_label, count(*) AS n,
           (array_agg(DISTINCT article_id ORDER BY article_id))[1:{examples}] AS articles,
           sum(count(*)) OVER (PARTITION BY kind) AS total,
           row_number() OVER (PARTITION BY kind ORDER BY count(*) DESC, text, model_text) AS rank
    FROM corrections GROUP BY kind, text, label, model_text, model_label
)
SELECT json_build_object(
    'articles', (SELECT count(*) FROM runs),
    'counts', (SELECT coalesce(json_agg(counts), '[]') FROM counts),
    'corrections', (SELECT coalesce(json_agg(ranked ORDER BY kind, rank), '[]') FROM ranked WHERE rank <= {top})
)
"""

_REVIEWED = {
    "scope": "a.status = 'reviewed'",
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

_EFFORT = """
WITH ev AS (
    SELECT e.article_id, e.actor_id, e.kind, e.at,
           e.at - lag(e.at) OVER (PARTITION BY e.article_id, e.actor_id ORDER BY e.at, e.id) AS gap
    FROM articles_spanevent e WHERE e.actor_id IS NOT NULL
),
per_article AS (
    SELECT article_id, actor_id, count(*) AS changes,
           count(*) FILTER (WHERE kind = 'created') AS created,
           count(*) FILTER (WHERE kind = 'relabelled') AS relabelled,
           count(*) FILTER (WHERE kind = 'resized') AS resized,
           count(*) FILTER (WHERE kind = 'deleted') AS deleted,
           count(*) FILTER (WHERE kind = 'accepted') AS accepted,
           count(*) FILTER (WHERE kind = 'restored') AS restored,
           round(extract(epoch FROM
               coalesce(sum(least(gap, %(cap)s)) FILTER (WHERE gap IS NOT NULL), interval '0')))::int AS seconds
    FROM ev GROUP BY article_id, actor_id
),
editors AS (
    SELECT u.{username} AS editor, count(*) AS articles, sum(changes)::int AS changes, sum(created)::int AS created,
           sum(relabelled)::int AS relabelled, sum(resized)::int AS resized, sum(deleted)::int AS deleted,
           sum(accepted)::int AS accepted, sum(restored)::int AS restored, sum(seconds)::int AS seconds,
           (SELECT count(*) FROM articles_article r WHERE r.reviewed_by_id = u.id AND r.status = 'reviewed') AS reviewed
    FROM per_article p JOIN {users} u ON u.id = p.actor_id GROUP BY u.id, u.{username}
),
heaviest AS (
    SELECT p.*, u.{username} AS editor, a.title, a.status
    FROM per_article p JOIN {users} u ON u.id = p.actor_id JOIN articles_article a ON a.id = p.article_id
    ORDER BY p.seconds DESC, p.changes DESC, p.article_id LIMIT %(top)s
)
SELECT json_build_object(
    'editors', (SELECT coalesce(json_agg(editors ORDER BY editor), '[]') FROM editors),
    'articles', (SELECT coalesce(json_agg(heaviest ORDER BY seconds DESC, changes DESC, article_id), '[]')
                 FROM heaviest),
    'status', (SELECT coalesce(json_object_agg(status, n), '{{}}')
               FROM (SELECT status, count(*) AS n FROM articles_article GROUP BY status) s),
    'per_day', (SELECT coalesce(json_agg(d ORDER BY day), '[]')
                FROM (SELECT reviewed_at::date AS day, count(*) AS reviewed FROM articles_article
                      WHERE status = 'reviewed' GROUP BY 1) d)
)
"""


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _scores(pred: dict | None, gold: dict | None) -> dict[str, Any]:
    """Precision, recall and F1 for exact and overlap matching from the pred and gold counts."""
    pred = pred or {"n": 0, "exact": 0, "overlap": 0}
    gold = gold or {"n": 0, "exact": 0, "overlap": 0}
    out: dict[str, Any] = {"predicted": pred["n"], "expected": gold["n"]}
    for match in ("exact", "overlap"):
        p, r = _ratio(pred[match], pred["n"]), _ratio(gold[match], gold["n"])
        f = 2 * p * r / (p + r) if p is not None and r is not None and p + r else (0.0 if p is not None else None)
        out[match] = {"p": p, "r": r, "f": f}
    return out


def _sql(sql: str, params: dict | None = None) -> Any:
    """One statement returning one JSON value, with memory enough to sort and hash in RAM (PostgreSQL's
    default work_mem of 4 MB spills the 10,000-article comparison to disk and doubles its time)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def compare(scope: dict[str, str]) -> dict[str, Any]:
    raw = _sql(_COMPARE.format(**scope, top=TOP_CORRECTIONS, examples=EXAMPLES))
    overall: dict[str, dict] = {}
    labels: dict[str, dict[str, dict]] = {}
    series: dict[tuple[str, str], dict[str, dict]] = {}
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
    return _sql(sql, {"cap": GAP_CAP, "top": TOP_ARTICLES})


def compute() -> dict[str, Any]:
    return {
        "model": model_quality(),
        "reference": reference_quality(),
        "effort": effort(),
        "training": training_history(),
    }


def training_history() -> list[dict[str, Any]]:
    return [
        {
            "model": str(m),
            "active": m.active,
            "created_at": m.created_at.isoformat(),
            "train_articles": m.train_articles,
            "dev_articles": m.dev_articles,
            "scores": m.scores,
        }
        for m in TrainedModel.objects.all()[:10]
    ]


def fingerprint() -> str:
    """Changes whenever a span changes anywhere (the history only grows)."""
    return str(SpanEvent.objects.aggregate(last=Max("id"))["last"] or 0)


def refresh() -> QualitySnapshot:
    """Recomputes the figures and stores them for the quality page."""
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

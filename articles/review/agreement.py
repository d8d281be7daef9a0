"""Two editors' agreement on the articles both annotated: span F1 and Cohen's kappa over tokens
(docs/review.md), per pair of editors and per day, in one pass over the finished versions' spans."""

import bisect
from collections import Counter, defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection

from articles.editing.tokens import TOKEN
from articles.models import Annotation, Article, Label, VersionSpan

NONE = ""  # a token outside every span

# A version's spans in text order: start, end, label.
type Spans = list[tuple[int, int, str]]

# Each finished pair's spans: article, version (1 or 2), editor, day the pair was complete, span.
_PAIRS = """
WITH pairs AS (
    SELECT article_id, max(finished_at)::date AS day
    FROM {versions}
    WHERE finished_at IS NOT NULL
    GROUP BY article_id HAVING count(*) = 2
)
SELECT v.article_id, v.slot, u.{username}, p.day, s.start, s."end", l.name
FROM pairs p
JOIN {versions} v ON v.article_id = p.article_id
JOIN {users} u ON u.id = v.editor_id
LEFT JOIN {spans} s ON s.annotation_id = v.id
LEFT JOIN {labels} l ON l.id = s.label_id
ORDER BY v.article_id, v.slot, s.start
"""


class _Tally:
    """Counts for F1 and kappa over some articles."""

    def __init__(self) -> None:
        self.articles = 0
        self.labels: dict[str, Counter[str]] = defaultdict(Counter)  # n1, n2, exact, overlap1, overlap2
        self.tokens: Counter[tuple[str, str]] = Counter()  # (label in version 1, label in version 2) -> tokens

    def add(self, other: "_Tally") -> None:
        self.articles += other.articles
        for label, counts in other.labels.items():
            self.labels[label].update(counts)
        self.tokens.update(other.tokens)

    def figures(self) -> dict[str, Any]:
        total: Counter[str] = sum(self.labels.values(), Counter())
        return {
            "articles": self.articles,
            "overall": _f1(total),
            "labels": [{"label": label, **_f1(counts)} for label, counts in sorted(self.labels.items())],
            "kappa": _kappa(self.tokens),
        }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _f1(c: Counter[str]) -> dict[str, Any]:
    exact = _ratio(2 * c["exact"], c["n1"] + c["n2"])
    p, r = _ratio(c["overlap2"], c["n2"]), _ratio(c["overlap1"], c["n1"])
    overlap = 2 * p * r / (p + r) if p is not None and r is not None and p + r else (0.0 if p is not None else None)
    return {"spans": [c["n1"], c["n2"]], "exact": exact, "overlap": overlap}


def _kappa(tokens: Counter[tuple[str, str]]) -> float | None:
    n = sum(tokens.values())
    if not n:
        return None
    observed = sum(count for (first, second), count in tokens.items() if first == second) / n
    firsts: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    for (first, second), count in tokens.items():
        firsts[first] += count
        seconds[second] += count
    chance = sum(firsts[label] * seconds[label] for label in firsts) / n / n
    return (observed - chance) / (1 - chance) if chance < 1 else 1.0


def _overlapped(spans: Spans, others: Spans) -> list[bool]:
    """For each span, whether a span of the other version with the same label shares text with it."""
    starts = [s[0] for s in others]
    out = []
    for start, end, label in spans:
        i = bisect.bisect_left(starts, end)
        hit = False
        while i > 0 and others[i - 1][1] > start:
            i -= 1
            hit = hit or others[i][2] == label
        out.append(hit)
    return out


def _tally(body: str, first: Spans, second: Spans) -> _Tally:
    tally = _Tally()
    tally.articles = 1
    for spans, n in ((first, "n1"), (second, "n2")):
        for _start, _end, label in spans:
            tally.labels[label][n] += 1
    for span in set(first) & set(second):
        tally.labels[span[2]]["exact"] += 1
    for spans, others, key in ((first, second, "overlap1"), (second, first, "overlap2")):
        for (_s, _e, label), hit in zip(spans, _overlapped(spans, others), strict=True):
            tally.labels[label][key] += hit
    # Tokens in a span of either version, with their labels; the rest are outside both.
    labelled: dict[int, list[str]] = {}
    for index, spans in ((0, first), (1, second)):
        for start, end, label in spans:
            for token in TOKEN.finditer(body, start, end):
                labelled.setdefault(token.start(), [NONE, NONE])[index] = label
    tally.tokens.update((label1, label2) for label1, label2 in labelled.values())
    tally.tokens[(NONE, NONE)] += len(TOKEN.findall(body)) - len(labelled)
    return tally


def agreement() -> dict[str, Any]:
    """The figures over every pair of finished versions, per pair of editors, and per day."""
    users = get_user_model()._meta
    sql = _PAIRS.format(
        versions=Annotation._meta.db_table,
        spans=VersionSpan._meta.db_table,
        labels=Label._meta.db_table,
        users=connection.ops.quote_name(users.db_table),
        username=users.get_field("username").column,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    versions: dict[int, dict[int, Spans]] = defaultdict(lambda: {1: [], 2: []})
    editors: dict[int, dict[int, str]] = defaultdict(dict)
    days: dict[int, str] = {}
    for article_id, slot, editor, day, start, end, label in rows:
        if article_id not in days:
            days[article_id] = day.isoformat()
        editors[article_id][slot] = editor
        if start is not None:
            versions[article_id][slot].append((start, end, label))
    bodies = dict(Article.objects.filter(pk__in=list(editors)).values_list("pk", "body").iterator(chunk_size=2000))
    overall = _Tally()
    pairs: defaultdict[str, _Tally] = defaultdict(_Tally)
    per_day: defaultdict[str, _Tally] = defaultdict(_Tally)
    for article_id, names in editors.items():
        tally = _tally(bodies[article_id], versions[article_id][1], versions[article_id][2])
        overall.add(tally)
        pairs[" – ".join(sorted(names.values()))].add(tally)
        per_day[days[article_id]].add(tally)
    return {
        **overall.figures(),
        "pairs": [{"editors": pair, **tally.figures()} for pair, tally in sorted(pairs.items())],
        "over_time": [{"day": day, **tally.figures()} for day, tally in sorted(per_day.items())],
    }

"""What the workspace page shows of an article: its text in segments, the entity groups, the
suggestions. A segment is a paragraph cut from the body alone, so it keeps its id between answers
(docs/editing.md).
"""

import bisect
import itertools
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, TypedDict, Unpack

from articles.editing import gate
from articles.editing.scope import ROW_FIELDS, Row, Scope, clashing, relabels, untouched_model_output
from articles.models import Annotation, Article, Label, Suggestion

# Texts listed per label before "show all": a long article has thousands of entities.
GROUPS_SHOWN = 30
# Characters of context either side of a suggestion, up to its sentence's edges.
CONTEXT_CHARS = 120
_SENTENCE_END = re.compile(r"[.!?…]\s|\n")


class Mark(NamedTuple):
    """What the page shows of a span."""

    pk: int
    start: int
    end: int
    label: Label
    origin: str
    proposed: bool  # untouched model output, not yet confirmed by an editor
    text: str


class Segment(NamedTuple):
    start: int
    end: int
    marks: list[Mark]


class Group(NamedTuple):
    """One text of one label, and how often it is marked."""

    text: str
    occurrences: int


@dataclass
class LabelEntities:
    """A label's entities in the side list: how many, and their texts (the most frequent first)."""

    label: Label
    count: int
    groups: list[Group]
    distinct: int  # texts in all, listed or not

    @property
    def hidden(self) -> int:
        return self.distinct - len(self.groups)


def cuts(body: str) -> list[int]:
    """Where segments may begin, from the body alone: at the start, and after each line break."""
    return [0, *(m.end() for m in re.finditer("\n", body) if m.end() < len(body))]


def rows_of(scope: Scope) -> list[Row]:
    """The spans in text order, as plain tuples."""
    return list(scope.spans.order_by("start").values_list(*ROW_FIELDS))


def _settled(scope: Scope) -> bool:
    """Once reviewed (or the version finished), what the model proposed is what the editor kept:
    nothing is unconfirmed."""
    return scope.article.status == Article.Status.REVIEWED if scope.annotation is None else scope.annotation.finished


def _start(row: Row) -> int:
    return row[1]


def _mark(body: str, labels: dict[int, Label], settled: bool, row: Row) -> Mark:
    pk, start, end, label, origin, _editor = row
    return Mark(pk, start, end, labels[label], origin, not settled and untouched_model_output(row), body[start:end])


def _crossed(rows: Sequence[Row], at: int) -> bool:
    """Whether a span runs across ``at``: only the last one starting before it can, as spans are apart."""
    before = bisect.bisect_left(rows, at, key=_start)
    return before > 0 and rows[before - 1][2] > at


def segments(
    scope: Scope, rows: Sequence[Row], labels: dict[int, Label], wanted: Sequence[tuple[int, int]] | None = None
) -> list[Segment]:
    """The body's segments with their marks (a cut inside a span is dropped); only those holding one of
    the ``wanted`` extents, when given."""
    body, settled = scope.article.body, _settled(scope)
    bounds = [at for at in cuts(body) if not _crossed(rows, at)] + [len(body)]
    out = []
    for start, end in itertools.pairwise(bounds):
        if wanted is not None and not any(start < e and s < end for s, e in wanted):
            continue
        first, last = (bisect.bisect_left(rows, at, key=_start) for at in (start, end))
        out.append(Segment(start, end, [_mark(body, labels, settled, row) for row in rows[first:last]]))
    return out


def crosses_a_cut(body: str, extents: Iterable[tuple[int, int]]) -> bool:
    """Whether a span over one of these extents joins segments: then the whole text is answered."""
    starts = cuts(body)
    return any(bisect.bisect_right(starts, start) < bisect.bisect_left(starts, end) for start, end in extents)


def entities(
    labels: Sequence[Label], body: str, rows: Sequence[Row], expanded: Collection[int] = frozenset()
) -> list[LabelEntities]:
    """These labels with their entities' texts, most frequent first; all of them for ``expanded`` labels."""
    counts: dict[int, Counter[str]] = {label.pk: Counter() for label in labels}
    for _pk, start, end, label_id, _origin, _editor in rows:
        if label_id in counts:
            counts[label_id][body[start:end]] += 1
    out = []
    for label in labels:
        ordered = sorted(counts[label.pk].items(), key=lambda item: (-item[1], item[0]))
        shown = ordered if label.pk in expanded else ordered[:GROUPS_SHOWN]
        out.append(
            LabelEntities(label, sum(counts[label.pk].values()), [Group(text, n) for text, n in shown], len(ordered))
        )
    return out


class Messages(TypedDict, total=False):
    """What an answer to a change says: why it was refused, or what it did."""

    alert: str
    status: str


class Notes(Messages, total=False):
    """What a page or an answer adds to the workspace's context."""

    js_text: dict[str, str]
    oob: bool
    body_oob: bool  # the whole text is answered, not only the segments a change touched
    suggestions: list["SuggestionInContext"]


class WorkspaceContext(Notes):
    """The context of ``articles/detail.html``."""

    article: Article
    annotation: Annotation | None
    version: int
    span_count: int
    rows: list[Row]
    segments: list[Segment]
    labels: list[Label]
    entities: list[LabelEntities]


def workspace_context(
    scope: Scope, *, expanded: Collection[int] = frozenset(), **notes: Unpack[Notes]
) -> WorkspaceContext:
    """What the page shows of the article's spans, or of the editor's version of it (``scope``)."""
    labels = list(Label.objects.all())
    rows = rows_of(scope)
    return _context(
        scope, labels, rows, segments(scope, rows, {label.pk: label for label in labels}), labels, expanded, **notes
    )


def _context(
    scope: Scope,
    labels: list[Label],
    rows: list[Row],
    shown: list[Segment],
    grouped: Sequence[Label],
    expanded: Collection[int],
    **notes: Unpack[Notes],
) -> WorkspaceContext:
    return {
        "article": scope.article,
        "annotation": scope.annotation,
        "version": scope.version,
        "span_count": len(rows),
        "rows": rows,
        "segments": shown,
        "labels": labels,
        "entities": entities(grouped, scope.article.body, rows, expanded),
        **notes,
    }


def changed_context(
    scope: Scope,
    extents: Sequence[tuple[int, int]] | None,
    labels_touched: set[int] | None,
    *,
    expanded: Collection[int] = frozenset(),
    **messages: Unpack[Messages],
) -> WorkspaceContext:
    """The regions a change altered: the segments holding ``extents`` and the groups of
    ``labels_touched``; ``None`` for either means all of it."""
    if extents is None or crosses_a_cut(scope.article.body, extents):
        return workspace_context(scope, expanded=expanded, oob=True, body_oob=True, **messages)
    labels = list(Label.objects.all())
    rows = rows_of(scope)
    touched = labels if labels_touched is None else [label for label in labels if label.pk in labels_touched]
    shown = segments(scope, rows, {label.pk: label for label in labels}, extents)
    return _context(scope, labels, rows, shown, touched, expanded, oob=True, **messages)


def context_of(body: str, start: int, end: int) -> tuple[str, str, str]:
    """The text before, at and after start:end within its sentence (at most CONTEXT_CHARS either side)."""
    lo = max(0, start - CONTEXT_CHARS)
    ends = [m.end() for m in _SENTENCE_END.finditer(body, lo, start)]
    lo = ends[-1] if ends else lo
    after = _SENTENCE_END.search(body, end, min(len(body), end + CONTEXT_CHARS))
    hi = after.start() + 1 if after else min(len(body), end + CONTEXT_CHARS)
    return body[lo:start].lstrip(), body[start:end], body[end:hi].rstrip()


class SuggestionInContext(NamedTuple):
    """A pending suggestion as the page lists it, with the rest of its sentence either side."""

    suggestion: Suggestion
    before: str
    after: str


def pending_suggestions(scope: Scope, rows: Sequence[Row] | None = None) -> list[SuggestionInContext]:
    """The pending suggestions that still fit, each with its sentence: one overlapping a span is left
    out unless accepting it relabels the untouched model span at exactly its place."""
    article = scope.article
    if scope.annotation is not None or not gate.suggestions_allowed(article):
        return []
    if rows is None:
        rows = rows_of(scope)
    shown: list[SuggestionInContext] = []
    pending = article.suggestions.pending().select_related("label", "source_article", "created_by")
    for suggestion in pending:
        clashes = clashing(rows, suggestion.start, suggestion.end)
        # (Only an unsettled article takes suggestions, so a model span there is still a proposal.)
        if clashes and not relabels(clashes, suggestion.start, suggestion.end, suggestion.label_id):
            continue
        suggestion.article = article
        before, _, after = context_of(article.body, suggestion.start, suggestion.end)
        shown.append(SuggestionInContext(suggestion, before, after))
    return shown

"""What the workspace page shows of an article: its text cut into segments and at its spans, the
entity list grouped by label and by text, the suggestions; the context of ``articles/detail.html``.

A change answers with the regions it altered only: the segments of the text that hold the spans it
touched, and the entity groups of the labels it touched. Segments are cut from the body alone (at
line breaks, and in long paragraphs at a space every ``SEGMENT_CHARS``), so they keep their ids from
one answer to the next; a span that crosses a cut joins the segments on either side.
"""

import bisect
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from articles.models import Article, Label, Span, Suggestion

# Characters of text per segment in a paragraph without line breaks.
SEGMENT_CHARS = 1000
# Texts listed per label before "show all": a long article has thousands of entities.
GROUPS_SHOWN = 30
# Characters of context either side of a suggestion, up to its sentence's edges.
CONTEXT_CHARS = 120
_SENTENCE_END = re.compile(r"[.!?…]\s|\n")


class Mark(NamedTuple):
    """What the page shows of a span; plain tuples, as a long article has thousands."""

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
    count: int


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
    """Where segments may begin, from the body alone: after each line break, and in a longer
    paragraph after the first space past every SEGMENT_CHARS characters."""
    found, start = [0], 0
    while start < len(body):
        newline = body.find("\n", start)
        end = len(body) if newline == -1 else newline + 1
        at = start + SEGMENT_CHARS
        while (space := body.find(" ", at, end - 1)) != -1:
            found.append(space + 1)
            at = space + 1 + SEGMENT_CHARS
        if end < len(body):
            found.append(end)
        start = end
    return found


def segments(body: str, marks: Sequence[Mark]) -> list[Segment]:
    """The body's segments with their marks; a cut inside a span is dropped."""
    starts = cuts(body)
    kept = set(starts)
    for mark in marks:
        lo, hi = bisect.bisect_right(starts, mark.start), bisect.bisect_left(starts, mark.end)
        kept.difference_update(starts[lo:hi])
    bounds = sorted(kept) + [len(body)]
    out, i = [], 0
    for start, end in zip(bounds, bounds[1:], strict=False):
        inside = []
        while i < len(marks) and marks[i].start < end:
            inside.append(marks[i])
            i += 1
        out.append(Segment(start, end, inside))
    return out


def crosses_a_cut(body: str, extents: Iterable[tuple[int, int]]) -> bool:
    """Whether a span over one of these extents joins segments: then the whole text is answered."""
    starts = cuts(body)
    return any(bisect.bisect_right(starts, start) < bisect.bisect_left(starts, end) for start, end in extents)


def marks_of(article: Article, labels: dict[int, Label]) -> list[Mark]:
    body = article.body
    # Once reviewed, what the model proposed is what the editor kept: nothing is unconfirmed.
    reviewed = article.status == Article.Status.REVIEWED
    return [
        Mark(
            pk,
            start,
            end,
            labels[label_id],
            origin,
            not reviewed and origin == Span.Origin.MODEL and editor is None,
            body[start:end],
        )
        for pk, start, end, label_id, origin, editor in article.spans.order_by("start").values_list(
            "pk", "start", "end", "label_id", "origin", "updated_by_id"
        )
    ]


def entities(labels: Sequence[Label], marks: Sequence[Mark], expanded: set[int] = frozenset()) -> list[LabelEntities]:
    """Every label with its entities' texts, most frequent first; all of them for ``expanded`` labels."""
    counts: dict[int, Counter] = {label.pk: Counter() for label in labels}
    for mark in marks:
        counts[mark.label.pk][mark.text] += 1
    out = []
    for label in labels:
        ordered = sorted(counts[label.pk].items(), key=lambda item: (-item[1], item[0]))
        shown = ordered if label.pk in expanded else ordered[:GROUPS_SHOWN]
        out.append(
            LabelEntities(
                label,
                sum(counts[label.pk].values()),
                [Group(text, n) for text, n in shown],
                len(ordered),
            )
        )
    return out


def workspace_context(article: Article, *, expanded: set[int] = frozenset(), **extra) -> dict:
    labels = list(Label.objects.all())
    marks = marks_of(article, {label.pk: label for label in labels})
    return {
        "article": article,
        "spans": marks,
        "segments": segments(article.body, marks),
        "labels": labels,
        "entities": entities(labels, marks, expanded),
        **extra,
    }


def changed_context(
    article: Article,
    extents: Sequence[tuple[int, int]] | None,
    labels_touched: set[int] | None,
    *,
    expanded: set[int] = frozenset(),
    **extra,
) -> dict:
    """The context of the regions a change altered: the segments holding ``extents`` (the spans'
    places before and after it), and the entity groups of ``labels_touched``; ``None`` for either,
    all of it (a change whose span crosses a cut, an undo, a stale page refreshed)."""
    context = workspace_context(article, expanded=expanded, **extra)
    if extents is None or crosses_a_cut(article.body, extents):
        context["body_oob"] = True
        return context
    context["segments"] = [
        segment
        for segment in context["segments"]
        if any(segment.start < end and start < segment.end for start, end in extents)
    ]
    if labels_touched is not None:
        context["entities"] = [group for group in context["entities"] if group.label.pk in labels_touched]
    return context


def context_of(body: str, start: int, end: int) -> tuple[str, str, str]:
    """The text before, at and after start:end within its sentence (at most CONTEXT_CHARS either side)."""
    lo = max(0, start - CONTEXT_CHARS)
    ends = [m.end() for m in _SENTENCE_END.finditer(body, lo, start)]
    lo = ends[-1] if ends else lo
    after = _SENTENCE_END.search(body, end, min(len(body), end + CONTEXT_CHARS))
    hi = after.start() + 1 if after else min(len(body), end + CONTEXT_CHARS)
    return body[lo:start].lstrip(), body[start:end], body[end:hi].rstrip()


def pending_suggestions(article: Article, marks: Sequence[Mark] | None = None) -> list[Suggestion]:
    """The context of ``articles/_suggestions.html``: the article's pending suggestions that still
    fit, each with its sentence. One that now overlaps a span is left out, unless accepting it
    relabels the untouched model span at exactly its place."""
    if marks is None:
        marks = marks_of(article, {label.pk: label for label in Label.objects.all()})
    starts = [mark.start for mark in marks]
    shown = []
    for suggestion in article.suggestions.pending().select_related("label"):
        clashes, i = [], bisect.bisect_left(starts, suggestion.end)
        while i > 0 and marks[i - 1].end > suggestion.start:
            i -= 1
            clashes.append(marks[i])
        relabels = len(clashes) == 1 and (clashes[0].start, clashes[0].end) == (suggestion.start, suggestion.end)
        if clashes and not (relabels and clashes[0].proposed and clashes[0].label.pk != suggestion.label_id):
            continue
        suggestion.article = article
        suggestion.before, _, suggestion.after = context_of(article.body, suggestion.start, suggestion.end)
        shown.append(suggestion)
    return shown

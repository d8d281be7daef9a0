"""Where two versions of an article differ: stretches whose spans are not the same on both sides."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from articles.models import Annotation

MISSING_FIRST = "missing-first"
MISSING_SECOND = "missing-second"
OTHER_LABEL = "other-label"
OTHER_BOUNDARY = "other-boundary"
KINDS = {
    MISSING_FIRST: _("only the second editor marked it"),
    MISSING_SECOND: _("only the first editor marked it"),
    OTHER_LABEL: _("another label"),
    OTHER_BOUNDARY: _("other boundaries"),
}


class Side(NamedTuple):
    """A span of one version: where, and its label's name."""

    start: int
    end: int
    label: str


@dataclass
class Disagreement:
    start: int  # the stretch holding every span of either side that takes part
    end: int
    first: list[Side] = field(default_factory=list)
    second: list[Side] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if not self.first:
            return MISSING_FIRST
        if not self.second:
            return MISSING_SECOND
        if [(s.start, s.end) for s in self.first] == [(s.start, s.end) for s in self.second]:
            return OTHER_LABEL
        return OTHER_BOUNDARY

    @property
    def kind_display(self) -> str:
        return str(KINDS[self.kind])


def sides(annotation: Annotation) -> list[Side]:
    return [Side(*row) for row in annotation.spans.order_by("start").values_list("start", "end", "label__name")]


def compare(first: Sequence[Side], second: Sequence[Side]) -> tuple[list[Side], list[Disagreement]]:
    """The agreed spans and the disagreements, in text order; a chain of overlapping spans on
    either side makes one disagreement."""
    agreed = sorted(set(first) & set(second))
    taken = set(agreed)
    pieces = sorted([(s, 1) for s in first if s not in taken] + [(s, 2) for s in second if s not in taken])
    out: list[Disagreement] = []
    for span, side in pieces:
        if out and span.start < out[-1].end:
            current = out[-1]
            current.end = max(current.end, span.end)
        else:
            current = Disagreement(span.start, span.end)
            out.append(current)
        (current.first if side == 1 else current.second).append(span)
    return agreed, out


def places(disagreements: Iterable[Disagreement]) -> set[tuple[int, int]]:
    return {(d.start, d.end) for d in disagreements}

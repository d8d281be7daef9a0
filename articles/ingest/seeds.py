"""Read seed articles whose highlighted phrases survive only as whitespace.

Each highlighted phrase X was written as " X " into normally spaced text, so
every phrase edge left one extra space (see seeds/README.md). Reading means
telling which extra spaces open a phrase and which close one.
"""

import bisect
import itertools
import re
from typing import NamedTuple

OPENERS = "“«("
CLOSERS = ",.:;!?”»)"
_PAIRS = {"“": "”", "«": "»", "(": ")"}

# A phrase never ends on clause punctuation or an opening mark, and never
# starts on closing punctuation: such a reading is a misplaced edge.
_BAD_START = " " + CLOSERS
_BAD_END = " ,:;" + OPENERS

type Span = tuple[int, int]


class _Edge(NamedTuple):
    """One extra space found in a gap between two words of the raw text."""

    kind: str  # "open", "close", or "?" when the gap alone cannot tell
    left: int  # clean offset where the left word ends (a close goes here)
    right: int  # clean offset where the right word starts (an open goes here)


def read_highlighted(raw: str, *, merge: bool = True) -> tuple[str, list[Span]]:
    """Clean text, and (start, end) code-point offsets into it of each
    highlighted phrase, adjacent ones merged (unless merge=False)."""
    clean, edges = _clean_and_edges(raw)
    brackets = _match_brackets(clean)
    sentences = _sentences(clean)
    starts = [start for start, _ in sentences]
    per_sentence: list[list[_Edge]] = [[] for _ in sentences]
    for edge in edges:
        # An open belongs with the word after it, and so does a close that
        # sits before punctuation; both live in the sentence holding `right`.
        per_sentence[max(bisect.bisect_right(starts, edge.right) - 1, 0)].append(edge)

    spans: list[Span] = []
    for (start, end), sentence_edges in zip(sentences, per_sentence, strict=True):
        spans += _read_sentence(clean, brackets, start, end, sentence_edges)
    spans.sort(key=lambda span: (span[0], -span[1]))
    return clean, _merge_adjacent(clean, spans) if merge else spans


def _clean_and_edges(raw: str) -> tuple[str, list[_Edge]]:
    """Collapse the whitespace, noting every space beyond the normal one."""
    pieces = re.split(r"(\s+)", raw)  # words at even indexes, gaps at odd ones
    clean: list[str] = [pieces[0]]
    length = len(pieces[0])
    edges: list[_Edge] = []
    for gap, word in itertools.batched(pieces[1:], 2):
        before = clean[-1][-1:] if length else ""
        if not word or word[0] in CLOSERS:
            kind, normal = "close", 0  # a phrase cannot start on ", . ”" or at the end
        elif not before or before in OPENERS:
            kind, normal = "open", 0  # nor end on "“" or at the start
        else:
            kind, normal = "?", 1  # between two words: either edge fits
        edges += [_Edge(kind, length, length + normal)] * (len(gap) - normal)
        clean.append(" " * normal + word)
        length += normal + len(word)
    return "".join(clean), edges


def _match_brackets(clean: str) -> dict[int, int]:
    """Offsets of matching quote marks / parentheses, both ways."""
    matches: dict[int, int] = {}
    stack: list[int] = []
    for i, char in enumerate(clean):
        if char in _PAIRS:
            stack.append(i)
        elif stack and char == _PAIRS[clean[stack[-1]]]:
            matches[i] = stack.pop()
            matches[matches[i]] = i
    return matches


def _sentences(clean: str) -> list[Span]:
    """(start, end) per sentence; end is where its final punctuation begins,
    which is where a close missing at the sentence edge belongs."""
    sentences: list[Span] = []
    start = 0
    for stop in re.finditer(r"[.!?]+[”»)]*", clean):
        after = clean[stop.end() :]
        if not after or (after[0] == " " and after[1:].lstrip(OPENERS + "¿¡")[:1].isupper()):
            sentences.append((start, stop.start()))
            start = stop.end() + 1
    if start < len(clean):
        sentences.append((start, len(clean)))
    return sentences or [(0, 0)]


def _read_sentence(clean: str, brackets: dict[int, int], start: int, end: int, edges: list[_Edge]) -> list[Span]:
    # The README's exception: at a sentence boundary an edge may be missing,
    # so the phrase opens at the sentence start or closes at its end. Try the
    # fewest missing edges first; the first consistent reading wins.
    for missing_open, missing_close in ((0, 0), (1, 0), (0, 1), (1, 1)):
        trial = [_Edge("open", start, start)] * missing_open + edges
        trial += [_Edge("close", end, end)] * missing_close
        spans = _pair_edges(clean, brackets, trial)
        if spans is not None:
            return spans
    raise ValueError(f"no consistent reading of highlights in: {clean[start:end]!r}")


def _pair_edges(clean: str, brackets: dict[int, int], edges: list[_Edge]) -> list[Span] | None:
    """Pair opens with closes left to right, or None if they cannot pair up."""
    spans: list[Span] = []
    # Open phrases, each with the offset of the closing mark of the quotation
    # it spans, or None for a plain phrase (a name), which nests nothing.
    stack: list[tuple[int, int | None]] = []
    for kind, left, right in edges:
        if kind == "?":
            # Inside an open quotation phrase an ambiguous edge opens a name;
            # otherwise it closes whatever is open, or opens a new phrase.
            quote_end = stack[-1][1] if stack else None
            kind = "close" if stack and (quote_end is None or left > quote_end) else "open"
        if kind == "open":
            if stack and stack[-1][1] is None:
                return None
            stack.append((right, _quotation_end(clean, brackets, right)))
        elif not stack:
            return None
        else:
            spans.append((stack.pop()[0], left))
    if stack or not all(_plausible(clean, brackets, span) for span in spans):
        return None
    return spans


def _quotation_end(clean: str, brackets: dict[int, int], start: int) -> int | None:
    """Closing mark of the quotation a phrase spans, whether it starts on the
    opening mark ("“todavía”") or just inside it ("“ demostración ”")."""
    for mark in (start, start - 1):
        if 0 <= mark < len(clean) and clean[mark] in _PAIRS and mark in brackets:
            return brackets[mark]
    return None


def _plausible(clean: str, brackets: dict[int, int], span: Span) -> bool:
    start, end = span
    if start >= end or clean[start] in _BAD_START or clean[end - 1] in _BAD_END:
        return False
    # A phrase holds whole quotations only, never just one of the marks.
    return all(start <= brackets[i] < end for i in range(start, end) if i in brackets)


def _merge_adjacent(clean: str, spans: list[Span]) -> list[Span]:
    """Join phrases separated by a single space ("Dmitri   Peskov" in the raw
    text): the source split one name into two highlights."""
    merged: list[Span] = []
    for start, end in spans:
        if merged and merged[-1][1] + 1 == start and clean[start - 1] == " ":
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged

"""Whole-token boundaries in an article body, without a tokenizer.

A token is a word ("Díaz-Canel", "O'Donnell") or a run of visible non-punctuation characters (an
emoji, a currency sign); never spaces or punctuation. Offsets are code points, like the spans'.
"""

import re
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Combining marks (accents typed as separate code points) belong to the word they follow.
_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe00-\ufe0f\ufe20-\ufe2f"
_WORD = rf"[\w{_MARKS}]+(?:['’\-][\w{_MARKS}]+)*"
_PUNCT = r"""!-/:-@\[-`{-~¡§«¶·»¿‐-‧‰-⁞"""
_OTHER = rf"[^\s\w{_PUNCT}{_MARKS}][^\s\w{_PUNCT}]*"
TOKEN = re.compile(rf"{_WORD}|{_OTHER}")

# Longer than any real word.
_REACH = 200


def _tokens(body: str, lo: int, hi: int) -> list[tuple[int, int]]:
    lo, hi = max(0, lo - _REACH), min(len(body), hi + _REACH)
    return [(m.start() + lo, m.end() + lo) for m in TOKEN.finditer(body[lo:hi])]


def snap(body: str, start: int, end: int) -> tuple[int, int]:
    """The smallest run of whole tokens covering every token the selection touches."""
    if not 0 <= start < end <= len(body):
        raise ValidationError(
            _("A selection needs 0 <= start < end <= %(length)s; got start=%(start)s, end=%(end)s.")
            % {"length": len(body), "start": start, "end": end}
        )
    touched = [(s, e) for s, e in _tokens(body, start, end) if s < end and e > start]
    if not touched:
        raise ValidationError(_("The selection holds no word, only spaces or punctuation."))
    return touched[0][0], touched[-1][1]


def step(body: str, start: int, end: int, edge: str, by: int) -> tuple[int, int]:
    """Moves one edge of the span start:end by one token (by=-1 leftwards, by=1 rightwards)."""
    tokens = _tokens(body, start, end)
    if edge == "start" and by < 0:
        before = [s for s, e in tokens if e <= start]
        new = (before[-1], end) if before else None
    elif edge == "start":
        after = [s for s, e in tokens if s > start and e <= end]
        new = (after[0], end) if after else None
    elif by > 0:
        after = [e for s, e in tokens if s >= end]
        new = (start, after[0]) if after else None
    else:
        before = [e for s, e in tokens if e < end and s >= start]
        new = (start, before[-1]) if before else None
    if new is None:
        raise ValidationError(_("The span cannot grow or shrink further that way."))
    return new


def whole_occurrences(body: str, text: str) -> Iterator[tuple[int, int]]:
    """Occurrences as whole tokens ("Kim" not inside "Kimberly")."""
    for match in re.finditer(re.escape(text), body):
        if is_whole(body, *match.span()):
            yield match.span()


def is_whole(body: str, start: int, end: int) -> bool:
    """Whether no token runs on past either edge of start:end."""
    return not any(s < edge < e for s, e in _tokens(body, start, end) for edge in (start, end))

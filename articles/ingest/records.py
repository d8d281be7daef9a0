"""An article as read from any format: its text normalised, its span offsets mapped into that text,
its fields checked; and the problems that refuse a run, each naming the file, the line or row, and why."""

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from articles.models import Article, content_hash
from articles.nlp.pipeline import MAX_LENGTH

TITLE_LENGTH = 120
MAX_PROBLEMS = 20
FIELD_LIMITS = {"title": Article._meta.get_field("title").max_length, "source": 500, "external_id": 200}


@dataclass(frozen=True)
class Problem:
    """Why a file, or one line or row of it, cannot be imported."""

    file: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, {self.where}: {self.reason}" if self.where else f"{self.file}: {self.reason}"


class ImportFailed(Exception):
    """Bad input: nothing of the run was written. ``problems`` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        more = "" if len(problems) < MAX_PROBLEMS else f"\n(stopped after {MAX_PROBLEMS} problems)"
        super().__init__("Nothing was imported.\n" + "\n".join(map(str, problems)) + more)


class Bad(Exception):
    """A reason, raised while reading; the reader turns it into a Problem with the place."""


@dataclass
class ArticleRecord:
    """One article as read, its text normalised and its span offsets mapped into that text. Its
    spans are checked with those of the other records of their chunk, at once (``SpanColumns``)."""

    text: str
    where: str
    file: str = ""
    title: str = ""
    source: str = ""
    published_at: datetime | None = None
    external_id: str = ""
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    reference_spans: list[tuple[int, int]] = field(default_factory=list)
    reference_source: str = ""
    # The stored body's hash, computed where the record is read (a reader thread, see writer).
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        self.digest = content_hash(self.text)


@dataclass(frozen=True)
class Skipped:
    """A record its tool marked as not to keep (Prodigy's "reject" and "ignore" answers): counted, not imported."""

    file: str
    where: str


# Prodigy's answers: "accept" records are kept (as reviewed with ``--reviewed``), the others skipped.
ANSWERS = ("accept", "reject", "ignore")


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    articles: int = 0
    duplicates: int = 0
    spans: int = 0
    # Records a tool marked as not to keep (Prodigy's "reject" and "ignore" answers).
    skipped: int = 0
    sample_titles: list[str] = field(default_factory=list)
    labels_to_create: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        """One sentence of what the run did, e.g. "1 article created, 2 duplicates skipped, 3 spans imported." """
        parts = [
            ngettext("%(n)s article created", "%(n)s articles created", self.articles) % {"n": self.articles},
            ngettext("%(n)s duplicate skipped", "%(n)s duplicates skipped", self.duplicates) % {"n": self.duplicates},
        ]
        if self.spans:
            parts.append(ngettext("%(n)s span imported", "%(n)s spans imported", self.spans) % {"n": self.spans})
        if self.skipped:
            parts.append(
                ngettext(
                    "%(n)s rejected or ignored record skipped",
                    "%(n)s rejected or ignored records skipped",
                    self.skipped,
                )
                % {"n": self.skipped}
            )
        return ", ".join(parts) + "."


def normalise(text: str) -> str:
    """How a body is stored: ``\\r\\n`` and ``\\r`` become ``\\n``, and the text is NFC."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def normalise_with_offsets(text: str, offsets: Iterable[int]) -> tuple[str, dict[int, int]]:
    """The normalised text, and where each offset of the original lands in it.

    The text is normalised piece by piece between the offsets; if the pieces do not add up to the
    whole, an offset falls inside something normalisation joins (``\\r\\n``, a letter and its accent).
    """
    body = normalise(text)
    cuts = sorted({0, len(text), *offsets})
    if body == text:
        return body, {cut: cut for cut in cuts}
    pieces = [normalise(text[a:b]) for a, b in itertools.pairwise(cuts)]
    if "".join(pieces) != body:
        cut = next(cut for cut in cuts if normalise(text[:cut]) + normalise(text[cut:]) != body)
        raise Bad(
            _(
                "a span edge at offset %(offset)s falls inside a character that normalisation joins "
                "(a \\r\\n pair, or a letter and its combining accent)"
            )
            % {"offset": cut}
        )
    starts = itertools.accumulate((len(piece) for piece in pieces), initial=0)
    return body, dict(zip(cuts, starts, strict=True))


def title_of(text: str) -> str:
    """The first line of a multi-line text, else its first sentence, cut at 120 characters."""
    first, newline, _rest = text.strip().partition("\n")
    first = first.strip()
    if not newline:
        first = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1].rstrip() + "…"


def _string(fields: dict, name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name == "external_id":
        value = str(value)
    if not isinstance(value, str):
        raise Bad(_("`%(field)s` must be a string, not %(type)s") % {"field": name, "type": type(value).__name__})
    value = value.strip()
    if len(value) > FIELD_LIMITS[name]:
        raise Bad(_("`%(field)s` is longer than %(limit)s characters") % {"field": name, "limit": FIELD_LIMITS[name]})
    return value


def _published_at(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Bad(_("`published_at` is not an ISO 8601 date: %(value)r") % {"value": value}) from None
    # A date without a time zone is read as UTC, the server's time.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _offset(value: Any, where: str, n: int) -> int:
    """``where`` names the offset (a gettext message with ``%(n)s``), read only when it is bad."""
    if not isinstance(value, int) or isinstance(value, bool):
        what = _(where) % {"n": n}
        raise Bad(_("%(what)s must be a whole number, not %(value)r") % {"what": what, "value": value})
    return value


# Marked for translation here, translated only when an offset is bad (millions of good ones are read).
SPAN_START, SPAN_END = gettext_noop("span %(n)s: start"), gettext_noop("span %(n)s: end")
LABEL_START, LABEL_END = gettext_noop("label %(n)s: start"), gettext_noop("label %(n)s: end")


def _raw_spans(fields: dict) -> list[tuple[int, int, str]]:
    """Prodigy's ``spans`` and doccano's ``label``, as (start, end, label) in the original text."""
    out = []
    prodigy, doccano = fields.get("spans"), fields.get("label")
    if prodigy is not None:
        if not isinstance(prodigy, list):
            raise Bad(_('`spans` must be a list like [{"start": 0, "end": 5, "label": "PER"}]'))
        for n, span in enumerate(prodigy, 1):
            if not isinstance(span, dict) or not {"start", "end", "label"} <= span.keys():
                raise Bad(_("span %(n)s needs `start`, `end` and `label`") % {"n": n})
            start, end = _offset(span["start"], SPAN_START, n), _offset(span["end"], SPAN_END, n)
            out.append((start, end, span["label"]))
    if doccano is not None:
        if not isinstance(doccano, list):
            raise Bad(_('`label` must be a list like [[0, 5, "PER"]]'))
        for n, span in enumerate(doccano, 1):
            if not isinstance(span, list) or len(span) != 3:
                raise Bad(_("label %(n)s must be [start, end, label]") % {"n": n})
            out.append((_offset(span[0], LABEL_START, n), _offset(span[1], LABEL_END, n), span[2]))
    return out


# Label names already found good, as given -> stripped: checked once per name, not once per span
# (a file of 400,000 spans has a handful of names). Bounded, whatever a file holds.
_GOOD_LABELS: dict[str, str] = {}
_GOOD_LABELS_KEPT = 1000


def _label(label: Any, start: int, end: int) -> str:
    """The span's label name, stripped; raises Bad if it is not one word of at most 32 characters."""
    if type(label) is str and (name := _GOOD_LABELS.get(label)) is not None:
        return name
    if not isinstance(label, str) or not label.strip():
        raise Bad(_("span %(start)s–%(end)s has no label") % {"start": start, "end": end})
    if not re.fullmatch(r"\S{1,32}", label.strip()):
        raise Bad(
            _("span %(start)s–%(end)s: the label %(label)r is not one word of at most 32 characters")
            % {"start": start, "end": end, "label": label}
        )
    if len(_GOOD_LABELS) < _GOOD_LABELS_KEPT:
        _GOOD_LABELS[label] = label.strip()
    return label.strip()


def _checked_spans(text: str, spans: list[tuple[int, int, Any]]) -> list[tuple[int, int, str]]:
    """The spans with their label names stripped, in order of start; raises Bad for the first bad one."""
    length = len(text)
    checked = []
    for start, end, label in spans:
        name = _label(label, start, end)
        if not 0 <= start < end:
            raise Bad(
                _("span %(start)s–%(end)s (%(label)s): start must be at least 0 and before end")
                % {"start": start, "end": end, "label": label}
            )
        if end > length:
            raise Bad(
                _("span %(start)s–%(end)s (%(label)s) ends past the text (%(length)s characters)")
                % {"start": start, "end": end, "label": label, "length": length}
            )
        checked.append((start, end, name))
    checked.sort()
    for (a_start, a_end, a_label), (b_start, b_end, b_label) in itertools.pairwise(checked):
        if b_start < a_end:
            raise Bad(
                _("span %(a_start)s–%(a_end)s (%(a_label)s) overlaps span %(b_start)s–%(b_end)s (%(b_label)s)")
                % dict(a_start=a_start, a_end=a_end, a_label=a_label, b_start=b_start, b_end=b_end, b_label=b_label)
            )
    return checked


def check_text(text: str) -> None:
    """What every article's text must be, whatever its format: not empty, not binary, and not longer
    than the model reads (its ``max_length``)."""
    if not text or text.isspace():
        raise Bad(_("the text is empty"))
    if "\x00" in text:
        raise Bad(_("the text holds a NUL character (binary data?)"))
    if len(text) > MAX_LENGTH:
        raise Bad(
            _("the article has %(length)s characters, more than the model's limit of %(limit)s")
            % {"length": f"{len(text):,}", "limit": f"{MAX_LENGTH:,}"}
        )


def skipped_answer(fields: dict) -> bool:
    """Whether a record is a Prodigy answer not to keep; raises Bad for an answer Prodigy never gives."""
    answer = fields.get("answer")
    if answer is None:
        return False
    if answer not in ANSWERS:
        raise Bad(
            _("`answer` must be one of %(answers)s, not %(value)r") % {"answers": ", ".join(ANSWERS), "value": answer}
        )
    return answer != "accept"


def record_from(fields: dict, file: str, where: str) -> ArticleRecord | Skipped:
    """An article from the fields of a CSV row or a JSON record (or the record skipped, for a
    rejected or ignored Prodigy answer); raises Bad with the reason."""
    if not isinstance(fields, dict):
        raise Bad(_("a record must be a JSON object, not %(type)s") % {"type": type(fields).__name__})
    if skipped_answer(fields):
        return Skipped(file, where)
    text = fields.get("text")
    if text is None:
        raise Bad(_("no `text`"))
    if not isinstance(text, str):
        raise Bad(_("`%(field)s` must be a string, not %(type)s") % {"field": "text", "type": type(text).__name__})
    return build_record(text, _raw_spans(fields), fields, file, where)


def build_record(text: str, spans: list[tuple[int, int, str]], fields: dict, file: str, where: str) -> ArticleRecord:
    """An article from its text, its spans as (start, end, label) in that text, and its other fields
    (``title``, ``source``, ``published_at``, ``external_id``); raises Bad with the reason."""
    check_text(text)
    body = normalise(text)
    if body is not text:
        # Rare: normalisation changed the text, so the offsets, checked against it first, move with it.
        spans = _checked_spans(text, spans)
        body, moved = normalise_with_offsets(text, (offset for start, end, _ in spans for offset in (start, end)))
        spans = [(moved[start], moved[end], label) for start, end, label in spans]
    title = _string(fields, "title")
    return ArticleRecord(
        text=body,
        file=file,
        where=where,
        title=title or title_of(body),
        source=_string(fields, "source"),
        published_at=_published_at(fields.get("published_at")),
        external_id=_string(fields, "external_id"),
        spans=spans,
    )


@dataclass
class SpanColumns:
    """The spans of a chunk of records in columns, checked all at once: a chunk's 40,000 spans in a
    few array operations instead of a Python loop over each. Rows are in order of record, then start;
    a row's label is its index in ``labels``, the chunk's label names (stripped).

    ``problems`` holds, by the record's index in the chunk, why its spans are refused, worded by the
    check of one record at a time (``_checked_spans``): a message is the same whichever check found
    it.
    """

    size: int
    record: np.ndarray
    start: np.ndarray
    end: np.ndarray
    label: np.ndarray
    labels: list[str]
    problems: dict[int, str]
    # Each label as given, by its index in ``labels``.
    codes: dict[Any, int]

    @classmethod
    def of(cls, records: Sequence[ArticleRecord]) -> "SpanColumns":
        try:
            return cls._of(records)
        except (OverflowError, TypeError, ValueError):
            # An offset no array holds (past 64 bits), a label no set holds: such records are found
            # by their own check, the others are checked together.
            problems = {i: reason for i, r in enumerate(records) if (reason := _refusal(r)) is not None}
            good = [i for i in range(len(records)) if i not in problems]
            columns = cls._of([records[i] for i in good])
            columns.problems = {good[i]: reason for i, reason in columns.problems.items()} | problems
            columns.record, columns.size = np.asarray(good, np.int64)[columns.record], len(records)
            return columns

    @classmethod
    def _of(cls, records: Sequence[ArticleRecord]) -> "SpanColumns":
        flat = list(itertools.chain.from_iterable(r.spans for r in records))
        starts, ends, given = zip(*flat, strict=True) if flat else ((), (), ())
        start, end, distinct = np.array(starts, np.int64), np.array(ends, np.int64), set(given)
        record = np.repeat(np.arange(len(records)), [len(r.spans) for r in records])
        lengths = np.array([len(r.text) for r in records], np.int64)
        bad = set(record[(start < 0) | (start >= end) | (end > lengths[record])].tolist())
        names = {}
        for label in distinct:
            try:
                names[label] = _label(label, 0, 0)
            except Bad:
                bad.update(i for i, r in enumerate(records) if any(g == label for _, _, g in r.spans))
        labels = sorted(set(names.values()))
        index = {name: i for i, name in enumerate(labels)}
        codes = {label: index[name] for label, name in names.items()}
        order = np.lexsort((start, record))
        record, start, end = record[order], start[order], end[order]
        label = np.array([codes.get(g, -1) for g in given], np.int64)[order]
        bad.update(record[np.flatnonzero((record[1:] == record[:-1]) & (start[1:] < end[:-1]))].tolist())
        problems = {i: _refusal(records[i]) for i in sorted(bad)}
        assert None not in problems.values(), "spans refused in a chunk are refused on their own too"
        return cls(len(records), record, start, end, label, labels, problems, codes)

    def labels_of(self, record: ArticleRecord) -> set[str]:
        """The label names of a good record of the chunk."""
        return {self.labels[self.codes[label]] for _, _, label in record.spans}

    def take(self, indexes: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The spans of these good records (``indexes`` in the chunk's order), as columns: the
        record's position in ``indexes``, start, end and label (its index in ``labels``)."""
        position = np.full(self.size, -1, np.int64)
        position[np.asarray(indexes, np.int64)] = np.arange(len(indexes))
        rows = np.flatnonzero(position[self.record] >= 0)
        return position[self.record[rows]], self.start[rows], self.end[rows], self.label[rows]


def _refusal(record: ArticleRecord) -> str | None:
    """Why a record's spans are refused, in the words of its own check; None if they are not."""
    try:
        _checked_spans(record.text, record.spans)
    except Bad as bad:
        return str(bad)
    return None

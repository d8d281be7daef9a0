"""An article as read from any format: its text normalised, its span offsets mapped, its fields checked."""

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db.models import Field, Model
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from articles.ingest.problems import Bad, Problem
from articles.ingest.spankeys import Fields, GivenSpan, raw_spans, settle_offsets
from articles.models import Article, content_hash
from articles.nlp.pipeline import MAX_LENGTH

TITLE_LENGTH = 120
MAX_PROBLEMS = 20


def max_length(model: type[Model], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, Field) and field.max_length is not None, f"{model.__name__}.{name} has no limit"
    return field.max_length


FIELD_LIMITS = {"title": max_length(Article, "title"), "source": 500, "external_id": 200}


class ImportFailed(Exception):
    """Bad input: nothing of the run was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        more = "" if len(problems) < MAX_PROBLEMS else f"\n(stopped after {MAX_PROBLEMS} problems)"
        super().__init__("Nothing was imported.\n" + "\n".join(map(str, problems)) + more)


def _lone_surrogate(name: str, error: UnicodeEncodeError) -> str:
    return _("`%(field)s` holds a lone surrogate (%(char)s at character %(at)s), which no UTF-8 text can") % {
        "field": name,
        "char": f"\\u{ord(error.object[error.start]):04x}",
        "at": error.start,
    }


@dataclass
class ArticleRecord:
    """One article as read; its spans are checked with the rest of their chunk (``SpanColumns``)."""

    text: str
    where: str
    file: str = ""
    title: str = ""
    source: str = ""
    published_at: datetime | None = None
    external_id: str = ""
    # Labels unchecked, unless normalising changed the text.
    spans: Sequence[GivenSpan] = field(default_factory=list)
    reference_spans: list[tuple[int, int]] = field(default_factory=list)
    reference_source: str = ""
    # Label Studio's predictions, stored as the model's spans where no span of ``spans`` lies.
    predictions: Sequence[tuple[int, int, str]] = ()
    prediction_model: str = ""
    predictions_left_out: int = 0
    # From CoNLL, kept so that an export writes them back.
    tokens: list[tuple[int, int]] | None = None
    sentence_starts: list[int] | None = None
    # See ``ArticleTokens.continued``.
    continued: list[int] | None = None
    utf16: bool = False
    # Computed where the record is read: in the writer's reader thread.
    digest: str = field(init=False)

    def __post_init__(self) -> None:
        try:
            self.digest = content_hash(self.text)
        except UnicodeEncodeError as error:
            raise Bad(_lone_surrogate("text", error)) from None


@dataclass(frozen=True)
class ReadOptions:
    """``annotation`` picks one of a Label Studio task's annotations: "" (refuse), "first", or an
    annotator's id or email."""

    annotation: str = ""


NO_OPTIONS = ReadOptions()


@dataclass(frozen=True)
class Skipped:
    """A record its tool marked as not to keep: counted, not imported."""

    file: str
    where: str


ANSWERS = ("accept", "reject", "ignore")


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    articles: int = 0
    duplicates: int = 0
    spans: int = 0
    # Prodigy's rejected and ignored answers, Label Studio's cancelled annotations.
    skipped: int = 0
    predictions: int = 0
    predictions_left_out: int = 0
    utf16: int = 0
    # Pre-annotated already, by the tool's predictions.
    predicted: list[int] = field(default_factory=list)
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
        if self.predictions:
            parts.append(
                ngettext(
                    "%(n)s predicted span stored as the model's",
                    "%(n)s predicted spans stored as the model's",
                    self.predictions,
                )
                % {"n": self.predictions}
            )
        if self.predictions_left_out:
            parts.append(
                ngettext(
                    "%(n)s predicted span left out (an imported span lies there, or the data is gold)",
                    "%(n)s predicted spans left out (an imported span lies there, or the data is gold)",
                    self.predictions_left_out,
                )
                % {"n": self.predictions_left_out}
            )
        if self.utf16:
            parts.append(
                ngettext(
                    "the offsets of %(n)s record were UTF-16 code units and were converted",
                    "the offsets of %(n)s records were UTF-16 code units and were converted",
                    self.utf16,
                )
                % {"n": self.utf16}
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


def _string(fields: Fields, name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name == "external_id":
        value = str(value)
    if not isinstance(value, str):
        raise Bad(_("`%(field)s` must be a string, not %(type)s") % {"field": name, "type": type(value).__name__})
    value = value.strip()
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as error:
            raise Bad(_lone_surrogate(name, error)) from None
    if len(value) > FIELD_LIMITS[name]:
        raise Bad(_("`%(field)s` is longer than %(limit)s characters") % {"field": name, "limit": FIELD_LIMITS[name]})
    return value


def _published_at(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None:
        raise Bad(_("`published_at` is not an ISO 8601 date: %(value)r") % {"value": value})
    # A date without a time zone is read as UTC, the server's time.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Label names already found good, as given -> stripped: checked once per name, not once per span
# (a file of 400,000 spans has a handful of names). Bounded, whatever a file holds.
_GOOD_LABELS: dict[str, str] = {}
_GOOD_LABELS_KEPT = 1000


def _label(label: object, start: int, end: int) -> str:
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


def _checked_spans(text: str, spans: Sequence[GivenSpan]) -> list[tuple[int, int, str]]:
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
    """Not empty, not binary, and not longer than the model reads."""
    if not text or text.isspace():
        raise Bad(_("the text is empty"))
    if "\x00" in text:
        raise Bad(_("the text holds a NUL character (binary data?)"))
    if len(text) > MAX_LENGTH:
        raise Bad(
            _("the article has %(length)s characters, more than the model's limit of %(limit)s")
            % {"length": f"{len(text):,}", "limit": f"{MAX_LENGTH:,}"}
        )


def skipped_answer(fields: Fields) -> bool:
    """Whether a record is a Prodigy answer not to keep."""
    answer: object = fields.get("answer")
    if answer is None:
        return False
    if answer not in ANSWERS:
        raise Bad(
            _("`answer` must be one of %(answers)s, not %(value)r") % {"answers": ", ".join(ANSWERS), "value": answer}
        )
    return answer != "accept"


def record_from(
    fields: object, file: str, where: str, options: ReadOptions = NO_OPTIONS, *, spans: bool = True
) -> ArticleRecord | Skipped:
    """An article from a CSV row or a JSON record, or the record skipped. ``spans=False``: a CSV
    row, whose header was checked for span columns."""
    if isinstance(fields, list) and len(fields) == 2 and isinstance(fields[0], str) and isinstance(fields[1], dict):
        fields = {"text": fields[0], **fields[1]}
    if not isinstance(fields, dict):
        raise Bad(_("a record must be a JSON object, not %(type)s") % {"type": type(fields).__name__})
    if "data" in fields and isinstance(fields["data"], dict):
        from articles.ingest.labelstudio import task_record

        return task_record(fields, file, where, options)
    if skipped_answer(fields):
        return Skipped(file, where)
    text = fields.get("text")
    if text is None and isinstance(fields.get("data"), str):
        # doccano's exports before 1.6 named the text `data`.
        text = fields["data"]
    if text is None:
        raise Bad(_("no `text`"))
    if not isinstance(text, str):
        raise Bad(_("`%(field)s` must be a string, not %(type)s") % {"field": "text", "type": type(text).__name__})
    if not spans:
        return build_record(text, [], fields, file, where)
    given, utf16 = settle_offsets(text, raw_spans(fields))
    return build_record(text, given, fields, file, where, utf16=utf16)


def _moved[Label](spans: Sequence[tuple[int, int, Label]], moved: dict[int, int]) -> list[tuple[int, int, Label]]:
    return [(moved[start], moved[end], label) for start, end, label in spans]


def build_record(
    text: str,
    spans: Sequence[GivenSpan],
    fields: Fields,
    file: str,
    where: str,
    *,
    utf16: bool = False,
    predictions: Sequence[GivenSpan] = (),
    prediction_model: str = "",
    predictions_left_out: int = 0,
    tokens: list[tuple[int, int]] | None = None,
    sentence_starts: list[int] | None = None,
    continued: list[int] | None = None,
) -> ArticleRecord:
    """An article from its text, spans and fields; predictions over an imported span are left out."""
    check_text(text)
    checked: Sequence[tuple[int, int, str]] = _checked_spans(text, predictions) if predictions else ()
    body = normalise(text)
    if body is not text:
        # Rare: normalisation changed the text, so the offsets, checked against it first, move with it.
        spans = _checked_spans(text, spans)
        offsets = [offset for start, end, _ in (*spans, *checked) for offset in (start, end)]
        offsets += [offset for token in tokens or () for offset in token]
        body, moved = normalise_with_offsets(text, offsets)
        spans, checked = _moved(spans, moved), _moved(checked, moved)
        if tokens is not None:
            tokens = [(moved[start], moved[end]) for start, end in tokens]
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
        predictions=checked,
        prediction_model=prediction_model,
        predictions_left_out=predictions_left_out,
        tokens=tokens,
        sentence_starts=sentence_starts,
        continued=continued,
        utf16=utf16,
    )

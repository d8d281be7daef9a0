"""The keys each tool writes spans under (Prodigy, doccano, spaCy, Label Studio's JSON-MIN), read
into (start, end, label, text); any other key that holds spans refused; a span's text checked
against its slice, and offsets counted in UTF-16 code units (JavaScript's) converted to code points."""

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from articles.ingest.problems import Bad


def _offset(value: object, where: str, n: int) -> int:
    """``where`` names the offset (a gettext message with ``%(n)s``), read only when it is bad."""
    if not isinstance(value, int) or isinstance(value, bool):
        what = _(where) % {"n": n}
        raise Bad(_("%(what)s must be a whole number, not %(value)r") % {"what": what, "value": value})
    return value


# Marked for translation here, translated only when an offset is bad (millions of good ones are read).
SPAN_START, SPAN_END = gettext_noop("span %(n)s: start"), gettext_noop("span %(n)s: end")
LABEL_START, LABEL_END = gettext_noop("label %(n)s: start"), gettext_noop("label %(n)s: end")


# Keys whose value is a list of spans, as each tool writes them: Prodigy's `spans`, doccano's
# `label` (and `labels`, as its older exports name it), spaCy's `entities` (v2 training data) and
# `ents` (``Doc.to_json``). Each item is [start, end, label] or an object with `start`, `end` and
# `label` (doccano's `start_offset`, `end_offset` too; Label Studio's `labels`, a list of one), and
# an optional `text` that must equal its slice.
SPAN_KEYS = ("spans", "label", "labels", "entities", "ents")
# Label Studio's keys of a task: read in a task (with its `data`), refused anywhere else when they
# hold a list (its results); any other value under these names is not Label Studio's, and not spans.
TASK_KEYS = ("annotations", "completions", "predictions", "result")

# A record's fields as parsed from JSON or a CSV row: any value, each checked where it is read.
type Fields = dict[str, object]

# (start, end, label): a span as a file gives it, its label not checked yet.
type GivenSpan = tuple[int, int, object]
# (start, end, label, text): the span as given, its text None when the record does not carry it.
type RawSpan = tuple[int, int, object, str | None]


def _item_name(key: str) -> str:
    """How a span of this key is named in messages (a gettext message with ``%(n)s``)."""
    named = {"spans": gettext_noop("span %(n)s"), "label": gettext_noop("label %(n)s")}
    # A key is the file's (a JSON-MIN control's name): a % in it is a character, not a placeholder.
    return named.get(key, "`" + key.replace("%", "%%") + "` %(n)s")


def _span_item(item: object, key: str, n: int) -> RawSpan:
    """One span of a list of spans, as (start, end, label, text); raises Bad with the reason."""
    name = _item_name(key)
    if isinstance(item, list):
        if len(item) != 3:
            raise Bad(_("%(item)s must be [start, end, label]") % {"item": _(name) % {"n": n}})
        start, end, label = item
        text = None
    elif isinstance(item, dict):
        start, end = item.get("start", item.get("start_offset")), item.get("end", item.get("end_offset"))
        label = item.get("label")
        if label is None and "labels" in item:
            labels = item["labels"]
            if not isinstance(labels, list) or len(labels) != 1:
                raise Bad(
                    _("%(item)s has the labels %(labels)r; a span here has exactly one")
                    % {"item": _(name) % {"n": n}, "labels": labels}
                )
            label = labels[0]
        if start is None or end is None or label is None:
            raise Bad(_("%(item)s needs `start`, `end` and `label`") % {"item": _(name) % {"n": n}})
        text = item.get("text")
        if text is not None and not isinstance(text, str):
            raise Bad(_("%(item)s: its `text` must be a string") % {"item": _(name) % {"n": n}})
    else:
        raise Bad(_("%(item)s needs `start`, `end` and `label`") % {"item": _(name) % {"n": n}})
    if key == "spans":
        where_start, where_end = SPAN_START, SPAN_END
    elif key == "label":
        where_start, where_end = LABEL_START, LABEL_END
    else:
        where_start, where_end = name + gettext_noop(": start"), name + gettext_noop(": end")
    return _offset(start, where_start, n), _offset(end, where_end, n), label, text


def span_list(value: object, key: str) -> list[RawSpan]:
    """The spans of one key of a record; raises Bad if it is not a list of spans."""
    if not isinstance(value, list):
        example = '[{"start": 0, "end": 5, "label": "PER"}]' if key == "spans" else '[[0, 5, "PER"]]'
        raise Bad(_("`%(key)s` must be a list like %(example)s") % {"key": key, "example": example})
    return [_span_item(item, key, n) for n, item in enumerate(value, 1)]


def looks_like_spans(value: object) -> bool:
    """Whether a value no known key holds is a list of spans all the same: [start, end, label]
    lists, or objects with a start, an end and a label."""
    if not isinstance(value, list) or not value:
        return False
    first = value[0]
    if isinstance(first, list):
        return len(first) == 3 and all(isinstance(x, int) for x in first[:2]) and isinstance(first[2], str)
    return (
        isinstance(first, dict)
        and bool({"start", "start_offset"} & first.keys())
        and bool({"end", "end_offset"} & first.keys())
        and bool({"label", "labels"} & first.keys())
    )


def raw_spans(fields: Fields) -> list[RawSpan]:
    """The spans of a record under any key a tool writes them (``SPAN_KEYS``), and Label Studio
    JSON-MIN's, under the name of its labelling control (items with `labels`). Any other key that
    holds spans is refused: a span is never left behind without a word."""
    out = []
    for key, value in fields.items():
        if key in SPAN_KEYS:
            if value is not None:
                out += span_list(value, key)
        elif key in TASK_KEYS and type(value) is list:
            raise Bad(
                _(
                    "`%(key)s` is a Label Studio task's: this import reads it in a task whose text is in "
                    "`data.text`, and this record has no `data`"
                )
                % {"key": key}
            )
        elif type(value) is list and looks_like_spans(value):
            if isinstance(value[0], dict) and "labels" in value[0]:
                # Label Studio's JSON-MIN: the spans under the name of the labelling control.
                out += span_list(value, key)
                continue
            raise Bad(
                _(
                    "`%(key)s` holds spans, which this import does not read under that name; "
                    "name them `spans` (Prodigy) or `label` (doccano)"
                )
                % {"key": key}
            )
    return out


def _utf16_positions(text: str) -> list[int]:
    """For each UTF-16 code unit offset into the text, the code point offset; -1 inside a surrogate pair."""
    positions = []
    for index, char in enumerate(text):
        positions.append(index)
        if ord(char) > 0xFFFF:
            positions.append(-1)
    positions.append(len(text))
    return positions


def settle_offsets(text: str, spans: Sequence[RawSpan]) -> tuple[list[GivenSpan], bool]:
    """The spans as (start, end, label), their given texts checked against their slices; and
    whether their offsets were UTF-16 code units (what JavaScript tools count: an astral character,
    such as an emoji, counts two), converted to code points. Raises Bad for a text that matches
    neither way."""
    if not spans:
        return [], False
    plain = [(start, end, label) for start, end, label, _text in spans]
    given = [(start, end, label, t) for start, end, label, t in spans if t is not None]
    if not given:
        return plain, False
    if all(text[start:end] == t for start, end, _label, t in given if 0 <= start < end):
        if all(end <= len(text) for _start, end, _label, _t in given):
            return plain, False
    if not text.isascii() and any(ord(char) > 0xFFFF for char in text):
        positions = _utf16_positions(text)
        converted = []
        for start, end, label, t in spans:
            if not 0 <= start < end < len(positions) or positions[start] < 0 or positions[end] < 0:
                break
            start, end = positions[start], positions[end]
            if t is not None and text[start:end] != t:
                break
            converted.append((start, end, label))
        else:
            return converted, True
    for start, end, label, t in given:
        if 0 <= start < end <= len(text) and text[start:end] != t:
            raise Bad(
                _(
                    "span %(start)s–%(end)s (%(label)s): its text %(text)r is not the text at those offsets, "
                    "%(slice)r (nor are they UTF-16 code units)"
                )
                % {"start": start, "end": end, "label": label, "text": t, "slice": text[start:end]}
            )
    # Texts past the end: the offsets' own check names them.
    return plain, False

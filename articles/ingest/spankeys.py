"""The keys each tool writes spans under, their texts checked, and UTF-16 offsets converted to code points."""

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


# Prodigy's, doccano's (`labels` in its older exports), spaCy v2's and ``Doc.to_json``'s; which tool
# writes what: docs/importing.md, "Other tools' files".
SPAN_KEYS = ("spans", "label", "labels", "entities", "ents")
# Label Studio's keys of a task: read in a task (with its `data`), refused anywhere else when they
# hold a list (its results); any other value under these names is not Label Studio's, and not spans.
TASK_KEYS = ("annotations", "completions", "predictions", "result")

type Fields = dict[str, object]

# Its label not checked yet.
type GivenSpan = tuple[int, int, object]
# Its text None when the record does not carry it.
type RawSpan = tuple[int, int, object, str | None]


def _item_name(key: str) -> str:
    named = {"spans": gettext_noop("span %(n)s"), "label": gettext_noop("label %(n)s")}
    # A key is the file's (a JSON-MIN control's name): a % in it is a character, not a placeholder.
    return named.get(key, "`" + key.replace("%", "%%") + "` %(n)s")


def _span_item(item: object, key: str, n: int) -> RawSpan:
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
    if not isinstance(value, list):
        example = '[{"start": 0, "end": 5, "label": "PER"}]' if key == "spans" else '[[0, 5, "PER"]]'
        raise Bad(_("`%(key)s` must be a list like %(example)s") % {"key": key, "example": example})
    return [_span_item(item, key, n) for n, item in enumerate(value, 1)]


def looks_like_spans(value: object) -> bool:
    """Whether a value under an unknown key is a list of spans all the same."""
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
    """The spans of a record under any key a tool writes them, Label Studio JSON-MIN's control name
    included. Any other key that holds spans is refused: a span is never left behind without a word."""
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
    """The spans, their given texts checked against their slices; and whether their offsets were
    UTF-16 code units (JavaScript tools count an emoji as two), converted to code points."""
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

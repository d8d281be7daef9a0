"""One reader per text format: each turns a decoded file into article records, and a Problem for
each bad line, row or record; a record that breaks its reader is refused like any bad record."""

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator

import msgspec
from django.utils.translation import gettext as _

from articles.ingest.conll import is_tagged_text, read_conll
from articles.ingest.problems import Bad, Problem, unreadable
from articles.ingest.records import (
    FIELD_LIMITS,
    ArticleRecord,
    ReadOptions,
    Skipped,
    build_record,
    record_from,
    skipped_answer,
)
from articles.ingest.spankeys import SPAN_KEYS, TASK_KEYS, settle_offsets

CSV_FIELD_LIMIT = 64 * 1024**2
# The separators a newsroom's spreadsheets write: a comma, a semicolon (Spanish Excel, where the
# comma is the decimal mark) or a tab.
CSV_SEPARATORS = (",", ";", "\t")

type Item = ArticleRecord | Problem | Skipped
type Reader = Callable[[io.TextIOWrapper, str, ReadOptions], Iterator[Item]]


def _read_txt(text: io.TextIOWrapper, name: str, options: ReadOptions) -> Iterator[Item]:
    """One article, unless the file's first lines are CoNLL's (see ``conll.is_tagged_text``)."""
    head = []
    for line in text:
        head.append(line)
        if sum(1 for seen in head if seen.strip()) == 2:
            break
    if is_tagged_text(head):
        yield from read_conll(itertools.chain(head, text), name)
        return
    content = "".join(head) + text.read()
    if not content.strip():
        raise Bad("the file is empty")
    yield record_from({"text": content}, name, "")


def _read_html(text: io.TextIOWrapper, name: str, options: ReadOptions) -> Iterator[Item]:
    # Imported here: trafilatura is slow to import, and no other format needs it.
    import trafilatura

    html = text.read()
    if not html.strip():
        raise Bad("the file is empty")
    body = trafilatura.extract(html, include_comments=False, include_tables=True, include_images=False)
    if not body or not body.strip():
        raise Bad(_("no article text found in the HTML"))
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata and metadata.title else ""
    yield record_from({"text": body, "title": title[: FIELD_LIMITS["title"]]}, name, "")


def csv_separator(header: str) -> str:
    """The separator of a CSV file, from its header row: the one that gives a `text` column (and the
    most columns, if several do); a comma if none does, so that the message names the columns."""
    found = []
    for separator in CSV_SEPARATORS:
        try:
            columns = next(csv.reader([header], delimiter=separator), [])
        except csv.Error:
            continue
        if "text" in (column.strip() for column in columns):
            found.append((len(columns), -CSV_SEPARATORS.index(separator), separator))
    return max(found)[2] if found else ","


def _read_csv(text: io.TextIOWrapper, name: str, options: ReadOptions) -> Iterator[Item]:
    # The default limit, 128 KiB a cell, is less than a long feature story.
    csv.field_size_limit(CSV_FIELD_LIMIT)
    header = text.readline()
    reader = csv.DictReader(itertools.chain([header], text), delimiter=csv_separator(header))
    try:
        columns = reader.fieldnames
    except csv.Error as error:
        raise Bad(_("row 1: not CSV (%(error)s)") % {"error": error}) from None
    if not columns:
        raise Bad("the file is empty")
    columns = [column.strip() for column in columns]
    if "text" not in columns:
        raise Bad(_("no `text` column in the header row (columns: %(columns)s)") % {"columns": ", ".join(columns)})
    span_columns = [column for column in columns if column in SPAN_KEYS + TASK_KEYS]
    if span_columns:
        raise Bad(
            _("the column %(columns)s would hold spans, which a CSV file cannot carry here; use JSONL for spans")
            % {"columns": ", ".join(f"`{column}`" for column in span_columns)}
        )
    reader.fieldnames = columns
    row_at = _("row %(n)s")
    rows = 1
    while True:
        rows += 1
        where = row_at % {"n": rows}
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            raise Bad(_("%(where)s: not valid CSV (%(error)s)") % {"where": where, "error": error}) from None
        if None in row:
            counts = {"values": len(columns) + len(row[None]), "columns": len(columns)}
            yield Problem(name, where, _("%(values)s values for %(columns)s columns") % counts)
            continue
        try:
            yield record_from({k: v for k, v in row.items() if v is not None}, name, where, spans=False)
        except Bad as bad:
            yield Problem(name, where, str(bad))
        except Exception as error:  # noqa: BLE001 (any record that breaks the reader is refused, with its place)
            yield Problem(name, where, unreadable(error))
    if rows == 2:
        raise Bad(_("no articles: only a header row"))


def _not_json(error: json.JSONDecodeError) -> str:
    return _("not JSON (%(error)s at column %(column)s)") % {"error": error.msg, "column": error.colno}


class _Span(msgspec.Struct, forbid_unknown_fields=True):
    start: int
    end: int
    label: str


class _TextSpan(msgspec.Struct, forbid_unknown_fields=True):
    """A span as Prodigy and this project's export also write it: its text (checked against its
    slice), and keys that are not read (the export's origin and id, Prodigy's token indexes)."""

    start: int
    end: int
    label: str
    text: str | None = None
    origin: msgspec.Raw | None = None
    span_id: msgspec.Raw | None = None
    token_start: msgspec.Raw | None = None
    token_end: msgspec.Raw | None = None


class _Fields(msgspec.Struct, forbid_unknown_fields=True):
    """The shape of a good JSON record, decoded straight into typed fields. Any other shape is read
    again by ``record_from``, which says what is wrong: no key that holds spans is passed over."""

    text: str
    title: str | None = None
    source: str | None = None
    published_at: str | None = None
    external_id: str | int | None = None
    answer: str | None = None
    label: list[tuple[int, int, str]] | None = None
    # What this project's JSONL export, Prodigy and doccano add to a record, none of them spans: not read.
    article_id: msgspec.Raw | None = None
    status: msgspec.Raw | None = None
    tokens: msgspec.Raw | None = None
    meta: msgspec.Raw | None = None
    id: msgspec.Raw | None = None
    Comments: msgspec.Raw | None = None
    input_hash: msgspec.Raw | None = msgspec.field(default=None, name="_input_hash")
    task_hash: msgspec.Raw | None = msgspec.field(default=None, name="_task_hash")
    view_id: msgspec.Raw | None = msgspec.field(default=None, name="_view_id")
    timestamp: msgspec.Raw | None = msgspec.field(default=None, name="_timestamp")
    annotator_id: msgspec.Raw | None = msgspec.field(default=None, name="_annotator_id")
    session_id: msgspec.Raw | None = msgspec.field(default=None, name="_session_id")


class _Record(_Fields, forbid_unknown_fields=True):
    """The common record: spans of three keys, no defaults, since every default is filled in for every
    span; a span with more keys is read by ``_TextRecord``."""

    spans: list[_Span] | None = None


class _TextRecord(_Fields, forbid_unknown_fields=True):
    spans: list[_TextSpan] | None = None


_decode_record = msgspec.json.Decoder(_Record).decode
_decode_text_record = msgspec.json.Decoder(_TextRecord).decode


def _json_record(line: str, name: str, where: str, options: ReadOptions) -> ArticleRecord | Skipped:
    try:
        record: _Record | _TextRecord = _decode_record(line)
    except msgspec.MsgspecError:
        try:
            record = _decode_text_record(line)
        except msgspec.MsgspecError:
            try:
                fields = json.loads(line)
            except json.JSONDecodeError as error:
                raise Bad(_not_json(error)) from None
            return record_from(fields, name, where, options)
    fields = {"title": record.title, "source": record.source, "external_id": record.external_id}
    if skipped_answer({"answer": record.answer}):
        return Skipped(name, where)
    utf16 = False
    if isinstance(record, _TextRecord) and record.spans and any(s.text is not None for s in record.spans):
        given = [(s.start, s.end, s.label, s.text) for s in record.spans]
        spans, utf16 = settle_offsets(record.text, given + [(*span, None) for span in record.label or ()])
    else:
        spans = [(s.start, s.end, s.label) for s in record.spans or ()]
        spans += record.label or ()
    fields["published_at"] = record.published_at
    return build_record(record.text, spans, fields, name, where, utf16=utf16)


def _read_jsonl(text: io.TextIOWrapper, name: str, options: ReadOptions) -> Iterator[Item]:
    line_at = _("line %(n)s")
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        where = line_at % {"n": number}
        try:
            yield _json_record(line, name, where, options)
        except Bad as bad:
            yield Problem(name, where, str(bad))
        except Exception as error:  # noqa: BLE001 (any record that breaks the reader is refused, with its place)
            yield Problem(name, where, unreadable(error))


def _read_json(text: io.TextIOWrapper, name: str, options: ReadOptions) -> Iterator[Item]:
    try:
        records = json.load(text)
    except json.JSONDecodeError as error:
        raise Bad(_("line %(n)s") % {"n": error.lineno} + ": " + _not_json(error)) from None
    except RecursionError:
        raise Bad(_("nested too deeply to be read")) from None
    if isinstance(records, dict) and isinstance(records.get("data"), dict):
        records = [records]
    if not isinstance(records, list):
        raise Bad(_("a .json file must hold a list of records (use .jsonl for one record a line)"))
    record_at = _("record %(n)s")
    for number, fields in enumerate(records, 1):
        where = record_at % {"n": number}
        try:
            yield record_from(fields, name, where, options)
        except Bad as bad:
            yield Problem(name, where, str(bad))
        except Exception as error:  # noqa: BLE001 (any record that breaks the reader is refused, with its place)
            yield Problem(name, where, unreadable(error))


def _read_conll(text: io.TextIOWrapper, name: str, options: ReadOptions) -> Iterator[Item]:
    return read_conll(text, name)


READERS: dict[str, Reader] = {
    ".txt": _read_txt,
    ".csv": _read_csv,
    ".tsv": _read_csv,
    ".jsonl": _read_jsonl,
    ".json": _read_json,
    ".html": _read_html,
    ".htm": _read_html,
    ".conll": _read_conll,
    ".iob": _read_conll,
}


TEXT_FORMATS = tuple(READERS)

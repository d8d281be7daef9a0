"""One reader per text format: each turns a decoded file into article records, and a Problem for
each bad line, row or record (a problem of the whole file is raised as ``Bad``)."""

import csv
import io
import itertools
import json
from collections.abc import Callable, Iterator

import msgspec
from django.utils.translation import gettext as _

from articles.ingest.conll import is_tagged_text, read_conll, read_conll_file
from articles.ingest.records import (
    FIELD_LIMITS,
    ArticleRecord,
    Bad,
    Problem,
    Skipped,
    build_record,
    record_from,
    skipped_answer,
)

CSV_FIELD_LIMIT = 64 * 1024**2

type Item = ArticleRecord | Problem | Skipped
type Reader = Callable[[io.TextIOWrapper, str], Iterator[Item]]


def _read_txt(text: io.TextIOWrapper, name: str) -> Iterator[Item]:
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


def _read_html(text: io.TextIOWrapper, name: str) -> Iterator[Item]:
    # Imported here: trafilatura takes a third of a second to import, which no other format needs.
    import trafilatura

    html = text.read()
    if not html.strip():
        raise Bad("the file is empty")
    # trafilatura keeps the page's main text and drops scripts, styles, navigation and comments.
    body = trafilatura.extract(html, include_comments=False, include_tables=True, include_images=False)
    if not body or not body.strip():
        raise Bad(_("no article text found in the HTML"))
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata and metadata.title else ""
    yield record_from({"text": body, "title": title[: FIELD_LIMITS["title"]]}, name, "")


def _read_csv(text: io.TextIOWrapper, name: str) -> Iterator[Item]:
    # The default limit, 128 KiB a cell, is less than a long feature story.
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(text)
    try:
        columns = reader.fieldnames
    except csv.Error as error:
        raise Bad(_("row 1: not CSV (%(error)s)") % {"error": error}) from None
    if not columns:
        raise Bad("the file is empty")
    columns = [column.strip() for column in columns]
    if "text" not in columns:
        raise Bad(_("no `text` column in the header row (columns: %(columns)s)") % {"columns": ", ".join(columns)})
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
            yield record_from({k: v for k, v in row.items() if v is not None}, name, where)
        except Bad as bad:
            yield Problem(name, where, str(bad))
    if rows == 2:
        raise Bad(_("no articles: only a header row"))


def _not_json(error: json.JSONDecodeError) -> str:
    return _("not JSON (%(error)s at column %(column)s)") % {"error": error.msg, "column": error.colno}


class _Span(msgspec.Struct):
    start: int
    end: int
    label: str


class _Record(msgspec.Struct):
    """The shape of a good JSON record, decoded straight into typed fields: three times as fast as
    ``json.loads`` and a loop over dicts. A record of any other shape is read again the slow way,
    which says what is wrong with it."""

    text: str
    title: str | None = None
    source: str | None = None
    published_at: str | None = None
    external_id: str | int | None = None
    answer: str | None = None
    spans: list[_Span] | None = None
    label: list[tuple[int, int, str]] | None = None


_decode_record = msgspec.json.Decoder(_Record).decode


def _json_record(line: str, name: str, where: str) -> ArticleRecord | Skipped:
    """One JSON record; raises Bad with the reason."""
    try:
        record = _decode_record(line)
    except msgspec.MsgspecError:
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as error:
            raise Bad(_not_json(error)) from None
        return record_from(fields, name, where)
    fields = {"title": record.title, "source": record.source, "external_id": record.external_id}
    if skipped_answer({"answer": record.answer}):
        return Skipped(name, where)
    spans = [(s.start, s.end, s.label) for s in record.spans or ()]
    spans += record.label or ()
    return build_record(record.text, spans, fields | {"published_at": record.published_at}, name, where)


def _read_jsonl(text: io.TextIOWrapper, name: str) -> Iterator[Item]:
    line_at = _("line %(n)s")
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        where = line_at % {"n": number}
        try:
            yield _json_record(line, name, where)
        except Bad as bad:
            yield Problem(name, where, str(bad))


def _read_json(text: io.TextIOWrapper, name: str) -> Iterator[Item]:
    try:
        records = json.load(text)
    except json.JSONDecodeError as error:
        raise Bad(_("line %(n)s") % {"n": error.lineno} + ": " + _not_json(error)) from None
    if not isinstance(records, list):
        raise Bad(_("a .json file must hold a list of records (use .jsonl for one record a line)"))
    record_at = _("record %(n)s")
    for number, fields in enumerate(records, 1):
        where = record_at % {"n": number}
        try:
            yield record_from(fields, name, where)
        except Bad as bad:
            yield Problem(name, where, str(bad))


READERS: dict[str, Reader] = {
    ".txt": _read_txt,
    ".csv": _read_csv,
    ".jsonl": _read_jsonl,
    ".json": _read_json,
    ".html": _read_html,
    ".htm": _read_html,
    ".conll": read_conll_file,
    ".iob": read_conll_file,
}


TEXT_FORMATS = tuple(READERS)

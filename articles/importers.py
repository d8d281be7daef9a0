"""Reading articles from files and writing them in one transaction: all of a run, or nothing.

Everything streams: a file is decoded and parsed as it is read, records are written in batches of
set-based inserts, and only the content hashes of a run stay in memory. One bad record anywhere
rolls the whole run back; the problems found (up to ``MAX_PROBLEMS``) name the file, the line or
row, and the reason. Uploads and ``import_articles`` both come through ``import_records``.
"""

import csv
import io
import itertools
import json
import re
import stat
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO

import charset_normalizer
import trafilatura
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from articles import actions
from articles.models import Article, ImportBatch, Label, ReferenceSpan, content_hash

TITLE_LENGTH = 120
TEXT_FORMATS = (".txt", ".csv", ".jsonl", ".json", ".html", ".htm")
FORMATS = (*TEXT_FORMATS, ".zip")
BATCH_SIZE = 2000
MAX_PROBLEMS = 20
SAMPLE_TITLES = 5
CSV_FIELD_LIMIT = 64 * 1024**2
_SNIFF_BYTES = 1 << 16
_ZIP_MAGIC = b"PK\x03\x04"
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}
_FIELD_LIMITS = {"title": Article._meta.get_field("title").max_length, "source": 500, "external_id": 200}


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


class _Bad(Exception):
    """A reason, raised while reading; the reader turns it into a Problem with the place."""


@dataclass
class ArticleRecord:
    """One article as read, its text normalised and its span offsets mapped into that text."""

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


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    articles: int = 0
    duplicates: int = 0
    spans: int = 0
    sample_titles: list[str] = field(default_factory=list)
    labels_to_create: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def summary(self) -> str:
        spans = f", {self.spans} spans imported" if self.spans else ""
        return f"{self.articles} articles created, {self.duplicates} duplicates skipped{spans}."


# Text -----------------------------------------------------------------------------------------------


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
        raise _Bad(
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
    first = text.strip().split("\n", 1)[0].strip()
    if "\n" not in text.strip():
        first = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1].rstrip() + "…"


# Records --------------------------------------------------------------------------------------------


def _string(fields: dict, name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool) and name == "external_id":
        value = str(value)
    if not isinstance(value, str):
        raise _Bad(_("`%(field)s` must be a string, not %(type)s") % {"field": name, "type": type(value).__name__})
    value = value.strip()
    if len(value) > _FIELD_LIMITS[name]:
        raise _Bad(_("`%(field)s` is longer than %(limit)s characters") % {"field": name, "limit": _FIELD_LIMITS[name]})
    return value


def _published_at(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise _Bad(_("`published_at` is not an ISO 8601 date: %(value)r") % {"value": value}) from None
    # A date without a time zone is read as UTC, the server's time.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _offset(value: Any, where: str, n: int) -> int:
    """``where`` names the offset (a gettext message with ``%(n)s``), read only when it is bad."""
    if not isinstance(value, int) or isinstance(value, bool):
        what = _(where) % {"n": n}
        raise _Bad(_("%(what)s must be a whole number, not %(value)r") % {"what": what, "value": value})
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
            raise _Bad(_('`spans` must be a list like [{"start": 0, "end": 5, "label": "PER"}]'))
        for n, span in enumerate(prodigy, 1):
            if not isinstance(span, dict) or not {"start", "end", "label"} <= span.keys():
                raise _Bad(_("span %(n)s needs `start`, `end` and `label`") % {"n": n})
            start, end = _offset(span["start"], SPAN_START, n), _offset(span["end"], SPAN_END, n)
            out.append((start, end, span["label"]))
    if doccano is not None:
        if not isinstance(doccano, list):
            raise _Bad(_('`label` must be a list like [[0, 5, "PER"]]'))
        for n, span in enumerate(doccano, 1):
            if not isinstance(span, list) or len(span) != 3:
                raise _Bad(_("label %(n)s must be [start, end, label]") % {"n": n})
            out.append((_offset(span[0], LABEL_START, n), _offset(span[1], LABEL_END, n), span[2]))
    return out


def _check_spans(text: str, spans: list[tuple[int, int, str]]) -> None:
    for start, end, label in spans:
        if not isinstance(label, str) or not label.strip():
            raise _Bad(_("span %(start)s–%(end)s has no label") % {"start": start, "end": end})
        if not re.fullmatch(r"\S{1,32}", label.strip()):
            raise _Bad(
                _("span %(start)s–%(end)s: the label %(label)r is not one word of at most 32 characters")
                % {"start": start, "end": end, "label": label}
            )
        if not 0 <= start < end:
            raise _Bad(
                _("span %(start)s–%(end)s (%(label)s): start must be at least 0 and before end")
                % {"start": start, "end": end, "label": label}
            )
        if end > len(text):
            raise _Bad(
                _("span %(start)s–%(end)s (%(label)s) ends past the text (%(length)s characters)")
                % {"start": start, "end": end, "label": label, "length": len(text)}
            )
    ordered = sorted(spans)
    for (a_start, a_end, a_label), (b_start, b_end, b_label) in itertools.pairwise(ordered):
        if b_start < a_end:
            raise _Bad(
                _("span %(a_start)s–%(a_end)s (%(a_label)s) overlaps span %(b_start)s–%(b_end)s (%(b_label)s)")
                % dict(a_start=a_start, a_end=a_end, a_label=a_label, b_start=b_start, b_end=b_end, b_label=b_label)
            )


def record_from(fields: dict, file: str, where: str) -> ArticleRecord:
    """An article from the fields of a CSV row or a JSON record; raises _Bad with the reason."""
    if not isinstance(fields, dict):
        raise _Bad(_("a record must be a JSON object, not %(type)s") % {"type": type(fields).__name__})
    text = fields.get("text")
    if text is None:
        raise _Bad(_("no `text`"))
    if not isinstance(text, str):
        raise _Bad(_("`%(field)s` must be a string, not %(type)s") % {"field": "text", "type": type(text).__name__})
    if not text.strip():
        raise _Bad(_("the text is empty"))
    if "\x00" in text:
        raise _Bad(_("the text holds a NUL character (binary data?)"))
    spans = _raw_spans(fields)
    _check_spans(text, spans)
    body, moved = normalise_with_offsets(text, (offset for start, end, _ in spans for offset in (start, end)))
    title = _string(fields, "title")
    return ArticleRecord(
        text=body,
        file=file,
        where=where,
        title=title or title_of(body),
        source=_string(fields, "source"),
        published_at=_published_at(fields.get("published_at")),
        external_id=_string(fields, "external_id"),
        spans=[(moved[start], moved[end], label.strip()) for start, end, label in spans],
    )


# Files ----------------------------------------------------------------------------------------------


class Meter:
    """Bytes read so far across a run, for progress bars."""

    def __init__(self) -> None:
        self.done = 0

    def add(self, n: int) -> None:
        self.done += n


class _Metered(io.RawIOBase):
    """A binary stream that tells ``on_read`` how much is read through it (which may refuse more)."""

    def __init__(self, raw: BinaryIO, on_read: Callable[[int], None]) -> None:
        self.raw, self.on_read = raw, on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.on_read(n)
        return n

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass(frozen=True)
class Source:
    """One file to read: its name in messages, its format, how to open it, and its size."""

    name: str
    suffix: str
    open: Callable[[], BinaryIO]
    size: int


def _detected(sample: bytes) -> str:
    match = charset_normalizer.from_bytes(sample).best()
    return match.encoding if match else _("unknown (binary data?)")


def _decode(stream: io.BufferedReader, encoding: str) -> io.TextIOWrapper:
    """The text of a file: UTF-8 (with or without BOM) unless an encoding was picked."""
    head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    if not head:
        raise _Bad("the file is empty")
    if not encoding:
        for bom, name in _BOMS.items():
            if head.startswith(bom):
                raise _Bad(
                    _("the file is %(encoding)s, not UTF-8; pick its encoding to import it") % {"encoding": name}
                )
        if b"\x00" in head:
            raise _Bad(_("binary data, not text"))
    return io.TextIOWrapper(stream, encoding=encoding or "utf-8-sig", errors="strict", newline="")


def _refuse_encoding(error: UnicodeDecodeError) -> _Bad:
    return _Bad(
        _(
            "not UTF-8 (byte %(byte)r cannot be decoded; detected encoding: %(detected)s); "
            "pick the file's encoding to import it (--encoding, or Encoding on the upload form)"
        )
        % {"byte": error.object[error.start : error.start + 1], "detected": _detected(error.object)}
    )


def _read_txt(text: io.TextIOWrapper, name: str) -> Iterator[ArticleRecord | Problem]:
    content = text.read()
    if not content.strip():
        raise _Bad("the file is empty")
    yield record_from({"text": content}, name, "")


def _read_html(text: io.TextIOWrapper, name: str) -> Iterator[ArticleRecord | Problem]:
    html = text.read()
    if not html.strip():
        raise _Bad("the file is empty")
    # trafilatura keeps the page's main text and drops scripts, styles, navigation and comments.
    body = trafilatura.extract(html, include_comments=False, include_tables=True, include_images=False)
    if not body or not body.strip():
        raise _Bad(_("no article text found in the HTML"))
    metadata = trafilatura.extract_metadata(html)
    title = metadata.title if metadata and metadata.title else ""
    yield record_from({"text": body, "title": title[: _FIELD_LIMITS["title"]]}, name, "")


def _read_csv(text: io.TextIOWrapper, name: str) -> Iterator[ArticleRecord | Problem]:
    # The default limit, 128 KiB a cell, is less than a long feature story.
    csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.DictReader(text)
    try:
        columns = reader.fieldnames
    except csv.Error as error:
        raise _Bad(_("row 1: not CSV (%(error)s)") % {"error": error}) from None
    if not columns:
        raise _Bad("the file is empty")
    columns = [column.strip() for column in columns]
    if "text" not in columns:
        raise _Bad(_("no `text` column in the header row (columns: %(columns)s)") % {"columns": ", ".join(columns)})
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
            raise _Bad(_("%(where)s: not valid CSV (%(error)s)") % {"where": where, "error": error}) from None
        if None in row:
            counts = {"values": len(columns) + len(row[None]), "columns": len(columns)}
            yield Problem(name, where, _("%(values)s values for %(columns)s columns") % counts)
            continue
        try:
            yield record_from({k: v for k, v in row.items() if v is not None}, name, where)
        except _Bad as bad:
            yield Problem(name, where, str(bad))
    if rows == 2:
        raise _Bad(_("no articles: only a header row"))


def _not_json(error: json.JSONDecodeError) -> str:
    return _("not JSON (%(error)s at column %(column)s)") % {"error": error.msg, "column": error.colno}


def _read_jsonl(text: io.TextIOWrapper, name: str) -> Iterator[ArticleRecord | Problem]:
    line_at = _("line %(n)s")
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        where = line_at % {"n": number}
        try:
            fields = json.loads(line)
        except json.JSONDecodeError as error:
            yield Problem(name, where, _not_json(error))
            continue
        try:
            yield record_from(fields, name, where)
        except _Bad as bad:
            yield Problem(name, where, str(bad))


def _read_json(text: io.TextIOWrapper, name: str) -> Iterator[ArticleRecord | Problem]:
    try:
        records = json.load(text)
    except json.JSONDecodeError as error:
        raise _Bad(_("line %(n)s") % {"n": error.lineno} + ": " + _not_json(error)) from None
    if not isinstance(records, list):
        raise _Bad(_("a .json file must hold a list of records (use .jsonl for one record a line)"))
    record_at = _("record %(n)s")
    for number, fields in enumerate(records, 1):
        where = record_at % {"n": number}
        try:
            yield record_from(fields, name, where)
        except _Bad as bad:
            yield Problem(name, where, str(bad))


_READERS = {
    ".txt": _read_txt,
    ".csv": _read_csv,
    ".jsonl": _read_jsonl,
    ".json": _read_json,
    ".html": _read_html,
    ".htm": _read_html,
}


def read_source(source: Source, meter: Meter, encoding: str = "") -> Iterator[ArticleRecord | Problem]:
    """The records of one file, and a Problem for each bad one (or one for the whole file)."""
    found = False
    try:
        with source.open() as raw:
            stream = io.BufferedReader(_Metered(raw, meter.add), buffer_size=_SNIFF_BYTES)
            if not encoding and stream.peek(4)[:4] == _ZIP_MAGIC:
                raise _Bad(_("a zip archive, not %(suffix)s text") % {"suffix": source.suffix})
            text = _decode(stream, encoding)
            for item in _READERS[source.suffix](text, source.name):
                found = True
                yield item
    except _Bad as bad:
        yield Problem(source.name, "", str(bad))
        return
    except UnicodeDecodeError as error:
        yield Problem(source.name, "", str(_refuse_encoding(error)))
        return
    except LookupError:
        yield Problem(source.name, "", _("unknown encoding %(encoding)r") % {"encoding": encoding})
        return
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        yield Problem(source.name, "", _("damaged in its zip archive (%(error)s)") % {"error": error})
        return
    if not found:
        yield Problem(source.name, "", _("the file is empty"))


def _unsafe_entry(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name):
        return _("an absolute path")
    if ".." in path.parts:
        return _("a path leading out of the archive (..)")
    if stat.S_ISLNK(info.external_attr >> 16):
        return _("a symbolic link")
    if info.flag_bits & 0x1:
        return _("encrypted")
    if path.suffix.lower() == ".zip":
        return _("a zip inside a zip")
    return None


def _zip_sources(path: Path, name: str, limit: int) -> Iterator[Source | Problem]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as error:
        yield Problem(name, "", _("not a zip archive (%(error)s)") % {"error": error})
        return
    with archive:
        for info in archive.infolist():
            reason = _unsafe_entry(info)
            if reason:
                yield Problem(f"{name}/{info.filename}", "", _("refused: %(reason)s") % {"reason": reason})
                return
        entries = [info for info in archive.infolist() if not info.is_dir() and not _hidden(info.filename)]
        declared = sum(info.file_size for info in entries)
        if declared > limit:
            sizes = {"size": f"{declared:,}", "limit": f"{limit:,}"}
            yield Problem(
                name, "", _("refused: it expands to %(size)s bytes, over the limit of %(limit)s bytes") % sizes
            )
            return
        expanded = 0

        def cap(n: int) -> None:
            # The sizes in the archive's directory can lie; count what really comes out.
            nonlocal expanded
            expanded += n
            if expanded > limit:
                raise _Bad(
                    _("refused: %(name)s expands past the limit of %(limit)s bytes")
                    % {"name": name, "limit": f"{limit:,}"}
                )

        for info in entries:
            suffix = PurePosixPath(info.filename).suffix.lower()
            entry_name = f"{name}/{info.filename}"
            if suffix not in TEXT_FORMATS:
                yield Problem(entry_name, "", _unsupported(TEXT_FORMATS))
                return

            def opener(info=info) -> BinaryIO:
                return _Metered(archive.open(info), cap)

            yield Source(entry_name, suffix, opener, info.file_size)


def _unsupported(formats: Iterable[str]) -> str:
    return _("unsupported format; use one of %(formats)s") % {"formats": ", ".join(formats)}


def _hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in PurePosixPath(name).parts)


def sources(files: Iterable[tuple[str, Path]], zip_limit: int | None = None) -> Iterator[Source | Problem]:
    """Readable files from (name shown in messages, path on disk) pairs; folders are walked, zips opened."""
    limit = settings.IMPORT_MAX_UNZIPPED_BYTES if zip_limit is None else zip_limit
    for name, path in files:
        if path.is_dir():
            inside = sorted(p for p in path.rglob("*") if p.is_file() and not _hidden(str(p.relative_to(path))))
            yield from sources(((str(p), p) for p in inside), limit)
            continue
        suffix = PurePosixPath(name).suffix.lower()
        if not path.exists():
            yield Problem(name, "", _("no such file or folder"))
        elif suffix == ".zip":
            yield from _zip_sources(path, name, limit)
        elif suffix in TEXT_FORMATS:
            yield Source(name, suffix, lambda path=path: path.open("rb"), path.stat().st_size)
        else:
            yield Problem(name, "", _unsupported(FORMATS))


def total_size(files: Iterable[tuple[str, Path]]) -> int:
    """What a run will read, in bytes (a zip by the size of its content), for progress bars."""
    total = 0
    for _name, path in files:
        if path.is_dir():
            total += total_size((str(p), p) for p in path.rglob("*") if p.is_file())
        elif path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                total += sum(info.file_size for info in archive.infolist())
        elif path.exists():
            total += path.stat().st_size
    return total


def read(
    files: Iterable[tuple[str, Path]], meter: Meter, encoding: str = "", zip_limit: int | None = None
) -> Iterator[ArticleRecord | Problem]:
    """Every record of every file, and a Problem for each bad one."""
    for source in sources(files, zip_limit):
        if isinstance(source, Problem):
            yield source
        else:
            yield from read_source(source, meter, encoding)


# Writing --------------------------------------------------------------------------------------------


def import_records(
    items: Iterable[ArticleRecord | Problem],
    *,
    user: AbstractBaseUser | None = None,
    batch: ImportBatch | None = None,
    create_labels: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Creates an article for each record whose text is new, with its spans; a duplicate is skipped.

    All or nothing: any Problem among the items (or found here: an unknown label) raises
    ImportFailed and the transaction writes nothing. With ``dry_run`` nothing is written and the
    problems are returned in the result instead: that is the preview of an upload.
    """
    result = ImportResult()
    with transaction.atomic():
        labels = set(Label.objects.values_list("name", flat=True))
        seen: set[str] = set()
        new_labels: set[str] = set()
        for chunk in itertools.batched(items, BATCH_SIZE):
            records = []
            for item in chunk:
                if isinstance(item, Problem):
                    result.problems.append(item)
                    continue
                unknown = {label for _, _, label in item.spans} - labels
                if unknown and not create_labels:
                    result.problems.append(
                        Problem(
                            item.file,
                            item.where,
                            _(
                                "unknown label %(unknown)s (known: %(known)s); "
                                "ask for missing labels to be created to import it"
                            )
                            % {"unknown": ", ".join(sorted(unknown)), "known": ", ".join(sorted(labels))},
                        )
                    )
                    continue
                new_labels |= unknown
                records.append(item)
            if len(result.problems) >= MAX_PROBLEMS:
                break
            _store(records, result, seen, user, batch, write=not dry_run and not result.problems, labels=new_labels)
            if on_progress:
                on_progress(result)
        result.problems = result.problems[:MAX_PROBLEMS]
        result.labels_to_create = sorted(new_labels)
        if not dry_run:
            if result.problems:
                raise ImportFailed(result.problems)
            if result.articles == 0 and result.duplicates == 0:
                raise ImportFailed([Problem(_("the import"), "", _("no articles found"))])
            if batch is not None:
                # Saved with the articles: the summary and what it counts commit together.
                batch.created_count, batch.duplicate_count = result.articles, result.duplicates
                batch.span_count, batch.finished_at = result.spans, timezone.now()
                batch.status = ImportBatch.Status.DONE
                batch.save(update_fields=["created_count", "duplicate_count", "span_count", "status", "finished_at"])
    return result


def _store(
    records: list[ArticleRecord],
    result: ImportResult,
    seen: set[str],
    user: AbstractBaseUser | None,
    batch: ImportBatch | None,
    *,
    write: bool,
    labels: set[str],
) -> None:
    hashes = {id(r): content_hash(r.text) for r in records}
    existing = set(
        Article.objects.filter(content_hash__in=list(hashes.values())).values_list("content_hash", flat=True)
    )
    new = []
    for record in records:
        digest = hashes[id(record)]
        if digest in existing or digest in seen:
            result.duplicates += 1
            continue
        seen.add(digest)
        new.append((record, digest))
    result.articles += len(new)
    result.spans += sum(len(record.spans) for record, _ in new)
    result.sample_titles += [record.title for record, _ in new[: SAMPLE_TITLES - len(result.sample_titles)]]
    if not write or not new:
        return
    if labels:
        actions.ensure_labels(labels)
    articles = _copy_articles(
        Article(
            title=record.title or title_of(record.text),
            body=record.text,
            body_length=len(record.text),
            content_hash=digest,
            source=record.source,
            published_at=record.published_at,
            external_id=record.external_id,
            batch=batch,
            created_by=user,
        )
        for record, digest in new
    )
    result.created += [article.pk for article in articles]
    pairs = list(zip(articles, (record for record, _ in new), strict=True))
    actions.add_imported_spans(
        (
            actions.ImportedSpan(article, start, end, label)
            for article, record in pairs
            for start, end, label in record.spans
        ),
        user,
    )
    ReferenceSpan.objects.bulk_create(
        ReferenceSpan(article=article, start=start, end=end, source=record.reference_source)
        for article, record in pairs
        for start, end in record.reference_spans
    )


def _copy_articles(articles: Iterable[Article]) -> list[Article]:
    """Inserts the articles with PostgreSQL's COPY, several times faster than INSERT for long bodies.

    The ids are taken from the table's sequence first, so the articles (and their spans) know them.
    Constraints and triggers apply to COPY as to INSERT.
    """
    articles = list(articles)
    table = Article._meta.db_table
    now = timezone.now()
    fields = [f for f in Article._meta.concrete_fields]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(articles)]
        )
        for article, (pk,) in zip(articles, cursor.fetchall(), strict=True):
            article.pk = pk
            article.created_at = article.updated_at = now
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns}) FROM STDIN") as copy:
            for article in articles:
                copy.write_row([getattr(article, f.attname) for f in fields])
    return articles

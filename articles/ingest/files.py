"""Files in: folders walked, zips opened safely, bytes metered for progress, text decoded strictly.

Everything streams: a file is decoded and parsed as it is read by its format's reader.
"""

import io
import re
import stat
import zipfile
import zlib
from collections.abc import Buffer, Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Protocol, Self

import charset_normalizer
from charset_normalizer.utils import is_multi_byte_encoding
from django.conf import settings
from django.utils.translation import gettext as _

from articles.ingest.conll import is_tagged_text
from articles.ingest.formats import READERS, TEXT_FORMATS
from articles.ingest.problems import Bad, Problem, unreadable
from articles.ingest.records import NO_OPTIONS, ArticleRecord, ReadOptions, Skipped

FORMATS = (*TEXT_FORMATS, ".zip")
_SNIFF_BYTES = 1 << 16
_ZIP_MAGIC = b"PK\x03\x04"
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


class Meter:
    def __init__(self) -> None:
        self.done = 0

    def add(self, n: int) -> None:
        self.done += n


class Stream(Protocol):
    """A file on disk or an entry of a zip, either metered."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None, /
    ) -> None: ...


class _Metered(io.RawIOBase):
    """A binary stream that tells ``on_read`` how much is read through it (which may refuse more)."""

    def __init__(self, raw: Stream, on_read: Callable[[int], None]) -> None:
        self.raw, self.on_read = raw, on_read

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer, /) -> int:
        with memoryview(buffer) as view:
            data = self.raw.read(len(view))
            n = len(data)
            view[:n] = data
        self.on_read(n)
        return n

    def read(self, size: int = -1, /) -> bytes:
        data = super().read(size)
        # None comes only from a non-blocking stream; files and zip entries block.
        assert data is not None
        return data

    def close(self) -> None:
        self.raw.close()
        super().close()


@dataclass(frozen=True)
class Source:
    name: str
    suffix: str
    open: Callable[[], Stream]
    size: int


# Letters of Spanish text beyond ASCII: a single-byte file that has them read as Windows-1252 is
# Spanish in Windows-1252 or Latin-1, whatever else (cp1250, cp852...) its bytes could also be.
_SPANISH_LETTERS = frozenset("áéíóúüñÁÉÍÓÚÜÑ¿¡")
_CP1252_ONLY = re.compile(rb"[\x80-\x9f]")


def detected_encoding(sample: bytes) -> str:
    """The encoding a file seems to be in, as Python names it: charset-normalizer's guess, except
    that Spanish single-byte text is cp1252 (if it has bytes 0x80–0x9F) or else Latin-1."""
    match = charset_normalizer.from_bytes(sample).best()
    if match is None:
        return _("unknown (binary data?)")
    if not is_multi_byte_encoding(match.encoding):
        try:
            western = sample.decode("cp1252")
        except UnicodeDecodeError:
            return match.encoding
        if _SPANISH_LETTERS.intersection(western):
            return "cp1252" if _CP1252_ONLY.search(sample) else "latin-1"
    return match.encoding


def _decode(stream: "io.BufferedReader[_Metered]", encoding: str) -> "io.TextIOWrapper[io.BufferedReader[_Metered]]":
    """The text of a file: UTF-8 (with or without BOM) unless an encoding was picked."""
    head = stream.peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
    if not head:
        raise Bad("the file is empty")
    if not encoding:
        for bom, name in _BOMS.items():
            if head.startswith(bom):
                raise Bad(_("the file is %(encoding)s, not UTF-8; pick its encoding to import it") % {"encoding": name})
        if b"\x00" in head:
            raise Bad(_("binary data, not text"))
    return io.TextIOWrapper(stream, encoding=encoding or "utf-8-sig", errors="strict", newline="")


def _refuse_encoding(error: UnicodeDecodeError) -> Bad:
    detected = detected_encoding(error.object)
    return Bad(
        _(
            "not UTF-8 (byte %(byte)r cannot be decoded; detected encoding: %(detected)s); "
            "pick the file's encoding to import it (--encoding %(detected)s, or Encoding on the upload form)"
        )
        % {"byte": error.object[error.start : error.start + 1], "detected": detected}
    )


def read_source(
    source: Source, meter: Meter, encoding: str = "", options: ReadOptions = NO_OPTIONS
) -> Iterator[ArticleRecord | Problem | Skipped]:
    """The records of one file, and a Problem for each bad one (or one for the whole file)."""
    found = False
    try:
        with source.open() as raw:
            stream = io.BufferedReader(_Metered(raw, meter.add), buffer_size=_SNIFF_BYTES)
            if not encoding and stream.peek(4)[:4] == _ZIP_MAGIC:
                raise Bad(_("a zip archive, not %(suffix)s text") % {"suffix": source.suffix})
            text = _decode(stream, encoding)
            for item in READERS[source.suffix](text, source.name, options):
                found = True
                yield item
    except Bad as bad:
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
    except Exception as error:  # noqa: BLE001 (a file that breaks its reader is refused, named, like any bad file)
        yield Problem(source.name, "", unreadable(error))
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
                raise Bad(
                    _("refused: %(name)s expands past the limit of %(limit)s bytes")
                    % {"name": name, "limit": f"{limit:,}"}
                )

        for info in entries:
            suffix = PurePosixPath(info.filename).suffix.lower()
            entry_name = f"{name}/{info.filename}"

            def opener(info: zipfile.ZipInfo = info) -> Stream:
                return _Metered(archive.open(info), cap)

            if suffix not in TEXT_FORMATS:
                if not _tagged(opener):
                    yield Problem(entry_name, "", _unsupported(TEXT_FORMATS))
                    return
                suffix = ".conll"
            yield Source(entry_name, suffix, opener, info.file_size)


def _tagged(opener: Callable[[], Stream]) -> bool:
    """Whether a file of no known name (CoNLL-2002's ``esp.train``) is CoNLL, by its first lines."""
    with opener() as raw:
        head = raw.read(_SNIFF_BYTES)
    return is_tagged_text(head.decode("utf-8-sig", errors="replace").splitlines())


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
            yield Source(name, suffix, _opener(path), path.stat().st_size)
        elif _tagged(_opener(path)):
            yield Source(name, ".conll", _opener(path), path.stat().st_size)
        else:
            yield Problem(name, "", _unsupported(FORMATS))


def _opener(path: Path) -> Callable[[], Stream]:
    return lambda: path.open("rb")


def total_size(files: Iterable[tuple[str, Path]]) -> int:
    """What a run will read, in bytes (a zip by the size of its content)."""
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
    files: Iterable[tuple[str, Path]],
    meter: Meter,
    encoding: str = "",
    zip_limit: int | None = None,
    options: ReadOptions = NO_OPTIONS,
) -> Iterator[ArticleRecord | Problem | Skipped]:
    for source in sources(files, zip_limit):
        if isinstance(source, Problem):
            yield source
        else:
            yield from read_source(source, meter, encoding, options)

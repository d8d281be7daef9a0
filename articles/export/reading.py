"""How an export reads and reports: one read-only snapshot, bytes in chunks, counts and unaligned spans."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import TracebackType

from django.db import connection, transaction

FLUSH_BYTES = 64 * 1024


@dataclass
class Unaligned:
    """A span whose edges fall inside a spaCy token: it cannot become a token-based entity."""

    article_id: int
    span_id: int
    start: int
    end: int
    text: str
    label: str

    def __str__(self) -> str:
        return (
            f"article {self.article_id}, span {self.span_id} ({self.label} {self.start}–{self.end} "
            f"“{self.text}”) does not align to spaCy tokens"
        )


@dataclass
class Report:
    articles: int = 0
    spans: int = 0
    unaligned: list[Unaligned] = field(default_factory=list)


class Snapshot:
    """One read-only transaction seeing one state of the database for the whole export."""

    def __enter__(self) -> None:
        outermost = not connection.in_atomic_block
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                # A request's statements are bounded (site.middleware.DatabaseTimeouts); an export's
                # COPY streams for as long as the corpus takes, and holds no lock anyone waits for.
                cursor.execute("SET LOCAL statement_timeout = 0")

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.atomic.__exit__(kind, error, traceback)


def buffered(rows: Iterator[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for row in rows:
        buffer += row
        if len(buffer) >= FLUSH_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)

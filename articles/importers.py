"""Reading articles from files and writing them in one transaction: all of a run, or nothing."""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from articles.models import Article, ReferenceSpan, content_hash

TITLE_LENGTH = 120


class ImportError_(Exception):
    """Bad input: names the file, the line or row, and the reason."""

    def __init__(self, where: str, reason: str) -> None:
        self.where, self.reason = where, reason
        super().__init__(f"{where}: {reason}")


@dataclass
class ArticleRecord:
    text: str
    where: str
    title: str = ""
    source: str = ""
    published_at: datetime | None = None
    external_id: str = ""
    reference_spans: list[tuple[int, int]] = field(default_factory=list)
    reference_source: str = ""


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    duplicates: int = 0

    def summary(self) -> str:
        return f"{len(self.created)} articles created, {self.duplicates} duplicates skipped."


def normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def title_of(text: str) -> str:
    """The first line of a multi-line text, else its first sentence, cut at 120 characters."""
    first = text.strip().split("\n", 1)[0].strip()
    if "\n" not in text.strip():
        first = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0]
    return first if len(first) <= TITLE_LENGTH else first[: TITLE_LENGTH - 1].rstrip() + "…"


@transaction.atomic
def import_records(records: Iterable[ArticleRecord], user=None) -> ImportResult:
    """Creates an article for each record whose text is new; a duplicate (same body) is skipped."""
    result = ImportResult()
    seen = set()
    pending = []
    for record in records:
        if not record.text.strip():
            raise ImportError_(record.where, "the text is empty")
        body = record.text
        digest = content_hash(body)
        if digest in seen:
            result.duplicates += 1
            continue
        seen.add(digest)
        pending.append((digest, record))
    existing = set(Article.objects.filter(content_hash__in=seen).values_list("content_hash", flat=True))
    result.duplicates += len(existing)
    for digest, record in pending:
        if digest in existing:
            continue
        article = Article.objects.create(
            title=record.title or title_of(record.text),
            body=record.text,
            source=record.source,
            published_at=record.published_at,
            external_id=record.external_id,
            created_by=user,
        )
        ReferenceSpan.objects.bulk_create(
            ReferenceSpan(article=article, start=start, end=end, source=record.reference_source)
            for start, end in record.reference_spans
        )
        result.created.append(article.pk)
    return result

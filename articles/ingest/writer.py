"""Writing imported articles in one transaction: all of a run, or nothing.

A reader thread parses and checks the next chunks while this one writes (docs/importing.md, "How
it writes"). Uploads, ``import_articles`` and the seeds all come through ``import_records``.
"""

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from articles.ingest.columns import SpanColumns
from articles.ingest.problems import Problem
from articles.ingest.records import MAX_PROBLEMS, ArticleRecord, ImportFailed, ImportResult, Skipped
from articles.models import Article, ArticleTokens, ImportBatch, Label, ReferenceSpan, Span

BATCH_SIZE = 1000
SAMPLE_TITLES = 5
# Enough to keep the database busy, few enough that memory stays flat.
READ_AHEAD = 2

type Item = ArticleRecord | Problem | Skipped


def import_records(
    items: Iterable[Item],
    *,
    user: User | None = None,
    batch: ImportBatch | None = None,
    create_labels: bool = False,
    reviewed: bool = False,
    dry_run: bool = False,
    on_progress: Callable[[ImportResult], None] | None = None,
) -> ImportResult:
    """Creates an article for each record whose text is new, with its spans; a duplicate is skipped.

    Any Problem raises ImportFailed and nothing is written. ``dry_run`` (an upload's preview) writes
    nothing and returns the problems instead.
    """
    result = ImportResult()
    with transaction.atomic():
        labels = set(Label.objects.values_list("name", flat=True))
        seen: set[str] = set()
        new_labels: set[str] = set()
        writer = _Writer(user, batch, reviewed, timezone.now())
        for chunk in read_ahead(items, BATCH_SIZE):
            records, spans = chunk.records, chunk.spans
            unknown = set(spans.labels) - labels
            good, at = [], 0
            for item in chunk.items:
                if isinstance(item, Problem):
                    result.problems.append(item)
                    continue
                if isinstance(item, Skipped):
                    result.skipped += 1
                    continue
                index, at = at, at + 1
                if index in spans.problems:
                    result.problems.append(Problem(item.file, item.where, spans.problems[index]))
                    continue
                if (unknown or item.predictions) and (missing := _labels_of(spans, item, reviewed) - labels):
                    if not create_labels:
                        result.problems.append(
                            Problem(
                                item.file,
                                item.where,
                                _(
                                    "unknown label %(unknown)s (known: %(known)s); "
                                    "ask for missing labels to be created to import it"
                                )
                                % {"unknown": ", ".join(sorted(missing)), "known": ", ".join(sorted(labels))},
                            )
                        )
                        continue
                    new_labels |= missing
                good.append(index)
            if len(result.problems) >= MAX_PROBLEMS:
                break
            new = _new(records, good, result, seen, reviewed)
            if new and not dry_run and not result.problems:
                if new_labels - labels:
                    Label.objects.ensure(new_labels)
                    labels |= new_labels
                writer.write(chunk, new, result)
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
                batch.span_count, batch.skipped_count = result.spans, result.skipped
                batch.status, batch.finished_at = ImportBatch.Status.DONE, timezone.now()
                batch.save(
                    update_fields=[
                        "created_count",
                        "duplicate_count",
                        "span_count",
                        "skipped_count",
                        "status",
                        "finished_at",
                    ]
                )
    return result


def _labels_of(spans: SpanColumns, record: ArticleRecord, reviewed: bool) -> set[str]:
    """The label names a record's spans use, and its predictions' unless gold data."""
    names = spans.labels_of(record)
    if record.predictions and not reviewed:
        names |= {label for _start, _end, label in record.predictions}
    return names


def _new(
    records: list[ArticleRecord], good: list[int], result: ImportResult, seen: set[str], reviewed: bool
) -> list[int]:
    """The indexes of good records whose text is new to the database and the run; others are counted."""
    digests = [records[i].digest for i in good]
    existing = set(Article.objects.filter(content_hash__in=digests).values_list("content_hash", flat=True))
    new = []
    for index, digest in zip(good, digests, strict=True):
        if digest in existing or digest in seen:
            result.duplicates += 1
            continue
        seen.add(digest)
        new.append(index)
    result.articles += len(new)
    result.spans += sum(len(records[i].spans) for i in new)
    for i in new:
        record = records[i]
        if record.predictions or record.predictions_left_out:
            kept = 0 if reviewed else len(record.predictions)
            result.predictions += kept
            result.predictions_left_out += record.predictions_left_out + len(record.predictions) - kept
        result.utf16 += record.utf16
    result.sample_titles += [records[i].title for i in new[: SAMPLE_TITLES - len(result.sample_titles)]]
    return new


_ARTICLE_COLUMNS = (
    "id, title, body, body_length, content_hash, source, published_at, external_id, status, batch_id, version, "
    "created_at, created_by_id, updated_at, reviewed_at, reviewed_by_id, preannotated_at"
)
COPY_ARTICLES = f"COPY articles_article ({_ARTICLE_COLUMNS}) FROM STDIN (FORMAT BINARY)"
ARTICLE_TYPES = [
    "int8", "varchar", "text", "int4", "varchar", "varchar", "timestamptz", "varchar", "varchar", "int8", "int4",
    "timestamptz", "int4", "timestamptz", "timestamptz", "int4", "timestamptz",
]  # fmt: skip
# A tool's predictions (Label Studio's) are the model's spans under this name, their version the tool's.
PREDICTIONS_MODEL = "label-studio"


class _Writer:
    """Writes chunks of new records: articles by COPY, ids drawn from the sequence first so the spans
    know them, then spans. Constraints and triggers apply to COPY as to INSERT."""

    def __init__(self, user: User | None, batch: ImportBatch | None, reviewed: bool, now: datetime) -> None:
        self.user_id = user.pk if user else None
        self.batch_id = batch.pk if batch else None
        self.reviewed = reviewed
        self.status = Article.Status.REVIEWED if reviewed else Article.Status.NEW
        self.reviewed_at: datetime | None = now if reviewed else None
        self.reviewed_by: int | None = self.user_id if reviewed else None
        self.now = now

    def write(self, chunk: "Chunk", indexes: list[int], result: ImportResult) -> None:
        records = [chunk.records[i] for i in indexes]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('articles_article', 'id')) FROM generate_series(1, %s)",
                [len(records)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            fixed = (self.batch_id, 1, self.now, self.user_id, self.now, self.reviewed_at, self.reviewed_by)
            predicted = (Article.Status.PRE_ANNOTATED.value, *fixed, self.now)
            plain = (self.status.value, *fixed, None)
            with cursor.cursor.copy(COPY_ARTICLES) as copy:
                copy.set_types(ARTICLE_TYPES)
                for pk, r in zip(ids, records, strict=True):
                    head = (pk, r.title, r.text, len(r.text), r.digest, r.source, r.published_at, r.external_id)
                    copy.write_row((*head, *(predicted if r.predictions and not self.reviewed else plain)))
        result.created += ids
        labels = Label.objects.ids()
        record, starts, ends, label = chunk.spans.take(indexes)
        label_ids = np.array([labels[name] for name in chunk.spans.labels], np.int64)
        # The history of an imported span is its own row and its article's batch: who imported it, when.
        Span.objects.insert_new(
            np.column_stack((np.array(ids, np.int64)[record], starts, ends, label_ids[label])),
            origin=Span.Origin.IMPORT,
            now=self.now,
            created_by_id=self.user_id,
        )
        references = [
            ReferenceSpan(article_id=pk, start=start, end=end, source=r.reference_source)
            for pk, r in zip(ids, records, strict=True)
            for start, end in r.reference_spans
        ]
        if references:
            ReferenceSpan.objects.bulk_create(references)
        tokens = [
            ArticleTokens(
                article_id=pk,
                starts=[start for start, _ in r.tokens],
                ends=[end for _, end in r.tokens],
                sentence_starts=r.sentence_starts or [0],
                continued=r.continued or [],
            )
            for pk, r in zip(ids, records, strict=True)
            if r.tokens is not None
        ]
        if tokens:
            ArticleTokens.objects.bulk_create(tokens)
        if not self.reviewed:
            self._predictions(ids, records, labels, result)

    def _predictions(
        self, ids: list[int], records: list[ArticleRecord], labels: dict[str, int], result: ImportResult
    ) -> None:
        """A tool's predictions, stored as the model's spans with history, as the quality figures read them."""
        by_model: dict[str, list[tuple[int, int, int, int]]] = {}
        for pk, r in zip(ids, records, strict=True):
            rows = by_model.setdefault(r.prediction_model[:50], [])
            rows += [(pk, start, end, labels[label]) for start, end, label in r.predictions]
        for version, rows in by_model.items():
            if rows:
                Span.objects.insert_new(
                    rows,
                    origin=Span.Origin.MODEL,
                    now=self.now,
                    model=(PREDICTIONS_MODEL, version),
                    history={pk: 1 for pk, *_ in rows},
                )
                result.predicted += sorted({pk for pk, *_ in rows})


@dataclass
class Chunk:
    """Items read in a row, their records, and the records' spans in columns, checked."""

    items: list[Item]
    records: list[ArticleRecord]
    spans: SpanColumns

    @classmethod
    def of(cls, items: list[Item]) -> "Chunk":
        records = [item for item in items if isinstance(item, ArticleRecord)]
        return cls(items, records, SpanColumns.of(records))


def read_ahead(items: Iterable[Item], size: int) -> Iterator[Chunk]:
    """The items in chunks of ``size``, read by a thread of their own while the caller writes. The
    thread speaks the caller's language, for the problems it words."""
    chunks: queue.Queue[Chunk | BaseException | None] = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()
    language = translation.get_language()

    def put(item: Chunk | BaseException | None) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        iterator = iter(items)
        with translation.override(language):
            try:
                chunk: list[Item] = []
                for item in iterator:
                    chunk.append(item)
                    if len(chunk) == size:
                        if not put(Chunk.of(chunk)):
                            return
                        chunk = []
                if chunk and not put(Chunk.of(chunk)):
                    return
                put(None)
            except BaseException as error:  # noqa: BLE001 (raised again in the caller's thread)
                put(error)
            finally:
                # A run stopped early (too many problems) closes its files now, not when collected.
                getattr(iterator, "close", lambda: None)()

    reader = threading.Thread(target=read, name="import-reader", daemon=True)
    reader.start()
    try:
        while True:
            try:
                chunk = chunks.get(timeout=1)
            except queue.Empty:
                if not reader.is_alive() and chunks.empty():
                    raise RuntimeError("the import's reader thread stopped without a word") from None
                continue
            if chunk is None:
                return
            if isinstance(chunk, BaseException):
                raise chunk
            yield chunk
    finally:
        stop.set()
        reader.join()

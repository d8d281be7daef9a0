"""Writing imported articles in one transaction: all of a run, or nothing.

Records are written in batches of set-based statements (COPY for the articles, one statement for
their spans and history), and only the content hashes of a run stay in memory. One bad record
anywhere rolls the whole run back. Uploads, ``import_articles`` and the seeds all come through
``import_records``.
"""

import itertools
from collections.abc import Callable, Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.ingest.records import MAX_PROBLEMS, ArticleRecord, ImportFailed, ImportResult, Problem, title_of
from articles.models import Article, ImportBatch, Label, ReferenceSpan, Span, content_hash

BATCH_SIZE = 2000
SAMPLE_TITLES = 5


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
        Label.objects.ensure(labels)
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
    _add_spans(pairs, user)
    ReferenceSpan.objects.bulk_create(
        ReferenceSpan(article=article, start=start, end=end, source=record.reference_source)
        for article, record in pairs
        for start, end in record.reference_spans
    )


def _add_spans(pairs: list[tuple[Article, ArticleRecord]], user: AbstractBaseUser | None) -> None:
    """The records' spans, as origin ``import``, with their history, in one statement.

    The articles were created in this transaction, so no other transaction can see them yet: there
    is no row to lock or version to check. The history records who imported them on the article's
    batch, not as the actor: an editor's undo walks back their own changes only, never the import.
    """
    labels = Label.objects.ids()
    rows = [(article.pk, start, end, labels[label]) for article, record in pairs for start, end, label in record.spans]
    versions = {article.pk: article.version for article, record in pairs if record.spans}
    Span.objects.insert_with_history(
        rows, versions, origin=Span.Origin.IMPORT, now=timezone.now(), created_by_id=user.pk if user else None
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

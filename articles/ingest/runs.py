"""Import runs, from the command line or an upload: files in, articles out, pre-annotation queued."""

from collections.abc import Callable
from pathlib import Path

from django.contrib.auth.models import User

from articles.ingest.files import Meter, read, total_size
from articles.ingest.indexing import index_articles
from articles.ingest.records import ImportResult, ReadOptions
from articles.ingest.writer import import_records
from articles.models import ImportBatch
from articles.nlp.preannotation import queue_preannotation
from articles.review.versions import sample

type Files = list[tuple[str, Path]]
type Progress = Callable[[int, int, ImportResult], None]


def import_files(
    files: Files,
    *,
    user: User | None = None,
    batch: ImportBatch | None = None,
    encoding: str = "",
    annotation: str = "",
    create_labels: bool = False,
    preannotate: bool = True,
    reviewed: bool = False,
    dry_run: bool = False,
    on_progress: Progress | None = None,
) -> ImportResult:
    """Reads the files and imports them all or nothing (raises ImportFailed); ``dry_run`` only checks
    them. ``reviewed``: gold data. ``annotation``: see ``ReadOptions``."""
    total, meter = total_size(files), Meter()
    result = import_records(
        read(files, meter, encoding, options=ReadOptions(annotation=annotation.strip())),
        user=user,
        batch=batch,
        create_labels=create_labels,
        reviewed=reviewed,
        dry_run=dry_run,
        on_progress=on_progress and (lambda result: on_progress(meter.done, total, result)),
    )
    if result.created and not dry_run:
        sample(result.created, batch)
        # Queued in the import's transaction: the tasks exist exactly when the articles do.
        index_articles.enqueue()
        if preannotate and not reviewed:
            # Articles that came with a tool's predictions are pre-annotated already.
            predicted = set(result.predicted)
            queue_preannotation([pk for pk in result.created if pk not in predicted])
    return result

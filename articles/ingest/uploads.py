"""Uploads: files in a private folder, checked, then imported once the admin confirms, in the background.

Progress is a small JSON file next to them: the import writes in one transaction, so a row it
updates is invisible to the page that polls until the end.
"""

import contextlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone, translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from articles.ingest.problems import Problem
from articles.ingest.records import ImportFailed, ImportResult
from articles.ingest.runs import Files, import_files
from articles.models import ImportBatch

log = logging.getLogger(__name__)


class PrivateUploadHandler(FileUploadHandler):
    """Streams every uploaded file to disk under the private folder: Django's default keeps small
    files in memory and the rest in the system's temporary folder, which may be RAM."""

    def new_file(
        self,
        field_name: str,
        file_name: str,
        content_type: str,
        content_length: int | None,
        charset: str | None = None,
        content_type_extra: dict[str, bytes] | None = None,
    ) -> None:
        super().new_file(field_name, file_name, content_type, content_length, charset, content_type_extra)
        incoming = settings.IMPORT_UPLOAD_DIR / "incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        # Deleted when closed, unless the upload view has linked it into a batch's folder by then.
        spool = tempfile.NamedTemporaryFile(dir=incoming, prefix="upload-")
        self.file = UploadedFile(spool, self.file_name, self.content_type, 0, self.charset, self.content_type_extra)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile[bytes]:
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()


def folder(batch: ImportBatch) -> Path:
    return settings.IMPORT_UPLOAD_DIR / str(batch.pk)


def files_of(batch: ImportBatch) -> Files:
    return [(f["name"], folder(batch) / _stored_name(i, f["name"])) for i, f in enumerate(batch.files)]


def _stored_name(index: int, name: str) -> str:
    # The admin's file name is only shown, never used as a path.
    return f"{index:03d}{PurePosixPath(name).suffix.lower()[:10]}"


@transaction.atomic
def receive(
    uploaded: Iterable[UploadedFile[bytes]],
    user: User,
    *,
    encoding: str,
    create_labels: bool,
    preannotate: bool,
    reviewed: bool = False,
    annotation: str = "",
) -> ImportBatch:
    """Keeps the uploaded files in a new batch's folder and queues their check."""
    uploaded = list(uploaded)
    names = [PurePosixPath(f.name or "upload").name for f in uploaded]
    batch = ImportBatch.objects.create(
        name=", ".join(names)[:300],
        created_by=user,
        status=ImportBatch.Status.CHECKING,
        files=[{"name": name, "size": f.size} for name, f in zip(names, uploaded, strict=True)],
        encoding=encoding,
        create_labels=create_labels,
        preannotate=preannotate,
        reviewed=reviewed,
        annotation=annotation,
    )
    folder(batch).mkdir(parents=True, exist_ok=True)
    for (_name, path), f in zip(files_of(batch), uploaded, strict=True):
        assert f.file is not None
        os.link(f.file.name, path)
    # The queue is a table of the same database: the worker sees the task when the batch commits.
    check_upload.enqueue(batch.pk, language=get_language())
    return batch


def _progress_file(batch: ImportBatch) -> Path:
    return folder(batch) / "progress.json"


def write_progress(batch: ImportBatch, done: int, total: int, result: ImportResult) -> None:
    path = _progress_file(batch)
    if not path.parent.exists():
        return
    spool = path.with_suffix(".tmp")
    spool.write_text(json.dumps({"done": done, "total": total, "articles": result.articles}))
    os.replace(spool, path)


def progress(batch: ImportBatch) -> dict[str, int]:
    """How far the running step has got: bytes read of the total, and articles found so far."""
    try:
        written: dict[str, int] = json.loads(_progress_file(batch).read_text())
        return written
    except (OSError, ValueError):
        return {"done": 0, "total": sum(f["size"] for f in batch.files) or 1, "articles": 0}


def summary(batch: ImportBatch) -> str:
    """What an imported batch did, in the words of an import run's summary."""
    # What only a tool's files bring (predictions, UTF-16 offsets) is counted by the check.
    preview = batch.preview or {}
    return ImportResult(
        articles=batch.created_count,
        duplicates=batch.duplicate_count,
        spans=batch.span_count,
        skipped=batch.skipped_count,
        predictions=preview.get("predictions", 0),
        predictions_left_out=preview.get("predictions_left_out", 0),
        utf16=preview.get("utf16", 0),
    ).summary()


def _forget(batch: ImportBatch) -> None:
    shutil.rmtree(folder(batch), ignore_errors=True)


def check(batch: ImportBatch) -> ImportBatch:
    """The preview: what importing the batch's files would create, and every problem found."""
    result = import_files(
        files_of(batch),
        encoding=batch.encoding,
        annotation=batch.annotation,
        create_labels=batch.create_labels,
        reviewed=batch.reviewed,
        dry_run=True,
        on_progress=lambda done, total, result: write_progress(batch, done, total, result),
    )
    if not result.problems and result.articles == 0 and result.duplicates == 0:
        result.problems.append(Problem(batch.name, "", _("no articles found")))
    batch.preview = {
        "articles": result.articles,
        "duplicates": result.duplicates,
        "spans": result.spans,
        "skipped": result.skipped,
        "predictions": result.predictions,
        "predictions_left_out": result.predictions_left_out,
        "utf16": result.utf16,
        "sample_titles": result.sample_titles,
        "labels_to_create": result.labels_to_create,
    }
    batch.errors = [str(problem) for problem in result.problems]
    batch.status = ImportBatch.Status.FAILED if result.problems else ImportBatch.Status.CHECKED
    batch.save(update_fields=["preview", "errors", "status"])
    _progress_file(batch).unlink(missing_ok=True)
    if result.problems:
        _forget(batch)
    return batch


def confirm(batch: ImportBatch) -> bool:
    """Queues the import of a checked batch; False if it was not waiting for confirmation."""
    with transaction.atomic():
        claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.CHECKED).update(
            status=ImportBatch.Status.IMPORTING
        )
        if claimed:
            import_upload.enqueue(batch.pk, language=get_language())
    return bool(claimed)


def run_import(batch: ImportBatch) -> ImportBatch:
    try:
        import_files(
            files_of(batch),
            user=batch.created_by,
            batch=batch,
            encoding=batch.encoding,
            annotation=batch.annotation,
            create_labels=batch.create_labels,
            preannotate=batch.preannotate,
            reviewed=batch.reviewed,
            on_progress=lambda done, total, result: write_progress(batch, done, total, result),
        )
    except ImportFailed as failed:
        _fail(batch, [str(problem) for problem in failed.problems])
    except IntegrityError:
        # Another import stored some of the same articles between the check and now.
        _fail(batch, [_("Some of these articles were imported by someone else meanwhile; upload the files again.")])
    _forget(batch)
    return batch


def _fail(batch: ImportBatch, errors: list[str]) -> None:
    batch.errors, batch.status, batch.finished_at = errors, ImportBatch.Status.FAILED, timezone.now()
    batch.save(update_fields=["errors", "status", "finished_at"])


@contextlib.contextmanager
def failing_loudly(batch_id: int) -> Iterator[ImportBatch]:
    """A step that crashes marks its batch refused, so the page stops waiting, and the worker logs why."""
    batch = ImportBatch.objects.get(pk=batch_id)
    try:
        yield batch
    except Exception:
        log.exception("Import batch %s crashed", batch_id)
        _fail(batch, [_("The import stopped on an unexpected error; nothing was imported. The server's log says why.")])
        _forget(batch)
        raise


# ``language``: the uploader's, for the problems the batch's page shows.
@task()
def check_upload(batch_id: int, language: str = settings.LANGUAGE_CODE) -> str:
    with translation.override(language), failing_loudly(batch_id) as batch:
        return check(batch).status


@task()
def import_upload(batch_id: int, language: str = settings.LANGUAGE_CODE) -> str:
    with translation.override(language), failing_loudly(batch_id) as batch:
        return run_import(batch).status

"""The upload page: files in, a preview of what they hold, then the import once the admin confirms."""

import codecs
from collections.abc import Sequence
from pathlib import PurePosixPath

from django.conf import settings
from django.contrib.auth.decorators import permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from articles.ingest import uploads
from articles.ingest.files import FORMATS
from articles.ingest.records import max_length
from articles.models import ImportBatch
from articles.site.http import AuthenticatedHttpRequest

# Offered on the upload form; any name Python knows is accepted.
ENCODINGS = [
    ("", gettext_lazy("UTF-8 (others are refused)")),
    ("cp1252", gettext_lazy("Windows-1252 (Western European)")),
    ("latin-1", "ISO-8859-1 (Latin-1)"),
    ("iso-8859-15", "ISO-8859-15 (Latin-9)"),
    ("utf-16", "UTF-16"),
    ("mac-roman", "Mac OS Roman"),
]
RECENT_BATCHES = 10


def _upload_page(request: HttpRequest, errors: Sequence[str] = (), status: int = 200) -> HttpResponse:
    context: dict[str, object] = {
        "errors": errors,
        "encodings": ENCODINGS,
        "formats": FORMATS,
        "max_files": settings.IMPORT_MAX_FILES,
        "max_bytes": settings.IMPORT_MAX_UPLOAD_BYTES,
        "batches": ImportBatch.objects.select_related("created_by")[:RECENT_BATCHES],
    }
    return render(request, "articles/upload.html", context, status=status)


def upload_too_large(request: HttpRequest, size: int) -> HttpResponse:
    """The 413 of UploadLimitMiddleware: the upload page with the limit named, for those who upload."""
    limit = filesizeformat(settings.IMPORT_MAX_UPLOAD_BYTES)
    message = _("The upload is %(size)s; the limit is %(limit)s (IMPORT_MAX_UPLOAD_BYTES).") % {
        "size": filesizeformat(size),
        "limit": limit,
    }
    if not request.user.has_perm("articles.import_articles"):
        return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    return _upload_page(request, [message], status=413)


@require_http_methods(["GET", "POST"])
@permission_required("articles.import_articles", raise_exception=True)
def upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _receive_upload(request)
    return _upload_page(request)


def _receive_upload(request: AuthenticatedHttpRequest) -> HttpResponse:
    files = request.FILES.getlist("files")
    encoding = request.POST.get("encoding", "").strip()
    annotation = request.POST.get("annotation", "").strip()
    errors = []
    if not files:
        errors.append(_("Pick or drop at least one file."))
    if len(files) > settings.IMPORT_MAX_FILES:
        errors.append(
            _("%(count)s files in one upload; at most %(max)s are allowed.")
            % {"count": len(files), "max": settings.IMPORT_MAX_FILES}
        )
    unsupported = [f.name or "" for f in files if PurePosixPath(f.name or "").suffix.lower() not in FORMATS]
    if unsupported:
        errors.append(
            _("Unsupported format: %(names)s. Use %(formats)s.")
            % {"names": ", ".join(unsupported), "formats": ", ".join(FORMATS)}
        )
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            errors.append(_("Unknown encoding %(encoding)r.") % {"encoding": encoding})
    if len(annotation) > max_length(ImportBatch, "annotation"):
        errors.append(_("The annotation to import is `first` or an annotator's id or email, not that long a text."))
    if errors:
        return _upload_page(request, errors, status=400)
    batch = uploads.receive(
        files,
        request.user,
        encoding=encoding,
        create_labels=request.POST.get("create_labels") == "on",
        preannotate=request.POST.get("preannotate") == "on",
        reviewed=request.POST.get("reviewed") == "on",
        annotation=annotation,
    )
    return redirect("articles:upload-batch", batch.pk)


def _get_batch(pk: int) -> ImportBatch:
    return get_object_or_404(ImportBatch.objects.select_related("created_by"), pk=pk)


@require_GET
@permission_required("articles.import_articles", raise_exception=True)
def upload_batch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch(pk)
    running = batch.status in (ImportBatch.Status.CHECKING, ImportBatch.Status.IMPORTING)
    context = {
        "batch": batch,
        "running": running,
        "progress": uploads.progress(batch) if running else None,
        "summary": uploads.summary(batch),
    }
    template = "articles/upload_batch.html#batch-status" if request.htmx else "articles/upload_batch.html"
    return render(request, template, context)


@require_POST
@permission_required("articles.import_articles", raise_exception=True)
def confirm_upload(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    batch = _get_batch(pk)
    uploads.confirm(batch)
    return redirect("articles:upload-batch", batch.pk)

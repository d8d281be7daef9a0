"""The export page (filters, live counts, the last exports) and the downloads."""

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from articles.export.filters import ExportFilters, counts
from articles.export.run import ExportRun
from articles.models import Export
from articles.site.http import AuthenticatedHttpRequest, bad_request

RECENT_EXPORTS = 10


@require_GET
@permission_required("articles.export_spans", raise_exception=True)
def export_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The filters as a form, how much they export (live, as the form changes), and the last exports."""
    filters = ExportFilters(request.GET)
    context: dict[str, object] = {"filters": filters, "counts": counts(filters) if filters.is_valid() else None}
    if request.htmx:
        return render(request, "articles/export.html#count", context)
    context["recent"] = Export.objects.select_related("created_by")[:RECENT_EXPORTS]
    return render(request, "articles/export.html", context)


@require_GET
@permission_required("articles.export_spans", raise_exception=True)
def export_download(request: AuthenticatedHttpRequest, fmt: str) -> HttpResponse | StreamingHttpResponse:
    """The export as a file: streamed, or whole for DocBin and CoNLL so a header can count unaligned spans."""
    excel = request.GET.get("excel", "")
    if excel not in ("", "0", "1"):
        return bad_request(_("Bad excel value “%(value)s”; allowed: 1 (CSV for Excel) or 0.") % {"value": excel})
    doccano = request.GET.get("doccano", "")
    if doccano not in ("", "0", "1"):
        message = _("Bad doccano value “%(value)s”; allowed: 1 (CoNLL as doccano reads it) or 0.")
        return bad_request(message % {"value": doccano})
    filters = ExportFilters(request.GET)
    if not filters.is_valid():
        return bad_request(filters.problems())
    try:
        export = ExportRun(filters, fmt, request.user, excel=excel == "1", doccano=doccano == "1")
    except ValueError as error:
        return bad_request(str(error))
    response: HttpResponse | StreamingHttpResponse
    if fmt in (Export.Format.SPACY, Export.Format.CONLL):
        response = HttpResponse(b"".join(export), content_type=export.content_type)
        response["Export-Unaligned-Spans"] = str(len(export.report.unaligned))
    else:
        response = StreamingHttpResponse(export, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename()}"'
    return response

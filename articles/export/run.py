"""One export run: the bytes of the chosen format, and an ``Export`` row logging it.

How it streams and what a dropped download cancels: docs/exporting.md.
"""

from collections.abc import Iterator

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.export.documents import conll_chunks, docbin_bytes, doccano_chunks, jsonl_chunks
from articles.export.filters import ExportFilters, allowed
from articles.export.reading import Report
from articles.export.rows import csv_chunks
from articles.models import Export

CONTENT_TYPES: dict[str, str] = {
    Export.Format.CSV: "text/csv; charset=utf-8",
    Export.Format.JSONL: "application/jsonl; charset=utf-8",
    Export.Format.SPACY: "application/octet-stream",
    Export.Format.CONLL: "text/plain; charset=utf-8",
    Export.Format.DOCCANO: "application/jsonl; charset=utf-8",
}


class ExportRun:
    """Iterating gives the bytes and logs an ``Export``; ``report`` holds the counts and unaligned spans."""

    def __init__(
        self,
        filters: ExportFilters,
        fmt: str,
        user: User | None,
        *,
        excel: bool = False,
        doccano: bool = False,
    ) -> None:
        if fmt not in Export.Format.values:
            raise ValueError(
                _("Unknown export format “%(format)s”; allowed: %(allowed)s.")
                % {"format": fmt, "allowed": allowed(Export.Format.values)}
            )
        if excel and fmt != Export.Format.CSV:
            raise ValueError(_("The Excel option applies to CSV only."))
        if doccano and fmt != Export.Format.CONLL:
            raise ValueError(_("The doccano flavour applies to CoNLL only (doccano's JSONL is the doccano format)."))
        self.filters, self.format, self.user, self.excel, self.doccano = filters, fmt, user, excel, doccano
        self.report = Report()

    def __iter__(self) -> Iterator[bytes]:
        log = Export.objects.create(
            created_by=self.user,
            format=self.format,
            excel=self.excel,
            doccano=self.doccano,
            filters=self.filters.query_string(),
        )
        if self.format == Export.Format.CSV:
            yield from csv_chunks(self.filters, self.report, excel=self.excel)
        elif self.format == Export.Format.JSONL:
            yield from jsonl_chunks(self.filters, self.report)
        elif self.format == Export.Format.CONLL:
            yield from conll_chunks(self.filters, self.report, doccano=self.doccano)
        elif self.format == Export.Format.DOCCANO:
            yield from doccano_chunks(self.filters, self.report)
        else:
            yield docbin_bytes(self.filters, self.report)
        log.articles, log.spans, log.unaligned = self.report.articles, self.report.spans, len(self.report.unaligned)
        log.finished_at = timezone.now()
        log.save(update_fields=["articles", "spans", "unaligned", "finished_at"])

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    def filename(self) -> str:
        suffixes: dict[str, str] = {Export.Format.DOCCANO: "doccano.jsonl"}
        suffix = suffixes.get(self.format, self.format)
        flavour = "-doccano" if self.doccano else ""
        return f"spans-{timezone.now():%Y%m%d-%H%M%S}{flavour}.{suffix}"

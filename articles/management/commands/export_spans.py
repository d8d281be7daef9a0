import contextlib
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from articles.export.filters import ExportFilters
from articles.export.run import ExportRun
from articles.models import Article, Export, Span


class Command(BaseCommand):
    help = (
        "Writes the spans (CSV, the default) or the articles with their spans (JSONL, doccano, DocBin, CoNLL) "
        "to FILE or stdout."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="standard output when absent")
        formats = ", ".join(Export.Format.values)
        parser.add_argument("--format", default=Export.Format.CSV, help=f"{formats} (default csv)")
        parser.add_argument("--excel", action="store_true", help="CSV for Excel: a byte-order mark and CRLF line ends")
        parser.add_argument(
            "--doccano",
            action="store_true",
            help="CoNLL as doccano imports it: a tab between token and tag, no -DOCSTART-, an article a block",
        )
        statuses = ", ".join(Article.Status.values)
        parser.add_argument("--status", action="append", default=[], help=f"repeatable: {statuses}")
        parser.add_argument("--label", action="append", default=[], help="repeatable: a label name")
        origins = ", ".join(Span.Origin.values)
        parser.add_argument("--origin", action="append", default=[], help=f"repeatable: {origins}")
        parser.add_argument("--batch", help="id of an upload batch")
        parser.add_argument("--reviewed-from", metavar="DATE", help="reviewed on or after DATE (YYYY-MM-DD)")
        parser.add_argument("--reviewed-to", metavar="DATE", help="reviewed on or before DATE (YYYY-MM-DD)")

    def handle(
        self,
        *args: object,
        output: Path | None,
        format: str,
        excel: bool,
        doccano: bool,
        status: list[str],
        label: list[str],
        origin: list[str],
        batch: str | None,
        reviewed_from: str | None,
        reviewed_to: str | None,
        **options: object,
    ) -> None:
        query = QueryDict(mutable=True)
        for name, values in (("status", status), ("label", label), ("origin", origin)):
            query.setlist(name, values)
        for name, value in (("batch", batch), ("reviewed_from", reviewed_from), ("reviewed_to", reviewed_to)):
            if value:
                query[name] = value
        if output and not output.parent.is_dir():
            raise CommandError(f"Cannot write {output}: there is no folder {output.parent}.")
        filters = ExportFilters(query)
        if not filters.is_valid():
            raise CommandError(filters.problems())
        try:
            export = ExportRun(filters, format, None, excel=excel, doccano=doccano)
        except ValueError as error:
            raise CommandError(str(error)) from None
        # A regular file is written only once complete, so that a failed export leaves no truncated
        # file behind. Anything else (/dev/null, a pipe) is written to as it is: renaming over it
        # would replace the device with a file.
        partial = None
        if output is not None and (output.is_file() or not output.exists()):
            partial = output.with_name(output.name + ".part")
        target = partial or output
        with target.open("wb") if target else contextlib.nullcontext(sys.stdout.buffer) as out:
            for chunk in export:
                out.write(chunk)
            out.flush()
        if partial and output:
            partial.replace(output)
        left_out_of: dict[str, str] = {
            Export.Format.SPACY: "left out of the DocBin",
            Export.Format.CONLL: "left out of the CoNLL tags (its tokens are O)",
        }
        kept = left_out_of.get(format, "exported without token_start/token_end")
        for span in export.report.unaligned:
            self.stderr.write(f"{span}: {kept}.")
        if output:
            left_out = len(export.report.unaligned) if format in (Export.Format.SPACY, Export.Format.CONLL) else 0
            self.stderr.write(
                f"Exported {export.report.spans} spans of {export.report.articles} articles to {output}"
                + (f"; {left_out} spans not aligned to tokens left out (listed above)." if left_out else "."),
                style_func=None,
            )

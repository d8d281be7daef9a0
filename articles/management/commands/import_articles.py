import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from articles.ingest.records import ImportFailed, ImportResult
from articles.ingest.runs import import_files
from articles.models import ImportBatch

BAR_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Imports articles from files, folders and zips (.txt, .csv, .tsv, .jsonl, .json, .html, .conll, .iob; "
        "Label Studio, doccano, Prodigy and spaCy records among them), all or nothing, and queues their pre-annotation."
    )
    # A data command: Django's system checks are the server's business, and cost every run (docs/benchmarks.md).
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", type=Path, metavar="PATH")
        parser.add_argument("--no-preannotate", action="store_true", help="do not queue pre-annotation")
        parser.add_argument("--encoding", default="", help="the files' encoding, if not UTF-8 (e.g. latin-1)")
        parser.add_argument(
            "--create-labels", action="store_true", help="create the labels of imported spans that do not exist"
        )
        parser.add_argument(
            "--annotation",
            default="",
            metavar="first|ANNOTATOR",
            help=(
                "of a Label Studio task annotated several times (refused otherwise), import the first annotation "
                "or the one by this annotator (id or email); `first` also picks a task's first prediction"
            ),
        )
        parser.add_argument(
            "--reviewed",
            action="store_true",
            help="gold data: store the files' spans as the editors' final ones and mark the articles reviewed",
        )

    def handle(
        self,
        *args: object,
        paths: list[Path],
        no_preannotate: bool,
        encoding: str,
        create_labels: bool,
        reviewed: bool,
        annotation: str,
        **options: object,
    ) -> None:
        self.progress_shown = False
        try:
            with transaction.atomic():
                batch = ImportBatch.objects.create(
                    name=" ".join(map(str, paths))[:300],
                    preannotate=not no_preannotate,
                    reviewed=reviewed,
                    annotation=annotation,
                )
                result = import_files(
                    [(str(path), path) for path in paths],
                    batch=batch,
                    encoding=encoding,
                    annotation=annotation,
                    create_labels=create_labels,
                    preannotate=not no_preannotate,
                    reviewed=reviewed,
                    on_progress=self.show_progress if sys.stderr.isatty() else None,
                )
        except ImportFailed as failed:
            raise CommandError(str(failed)) from None
        finally:
            if self.progress_shown:
                sys.stderr.write("\n")
        waiting = set(result.created) - set(result.predicted)
        queued = "" if no_preannotate or reviewed or not waiting else " Pre-annotation queued (run a worker)."
        self.stdout.write(f"Imported: {result.summary()}{queued}")

    def show_progress(self, done: int, total: int, result: ImportResult) -> None:
        share = min(done / total, 1) if total else 1
        filled = round(share * BAR_WIDTH)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {share:4.0%}  {result.articles:,} articles")
        sys.stderr.flush()
        self.progress_shown = True

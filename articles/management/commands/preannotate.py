import sys
import time

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from articles.models import Article
from articles.nlp import pipeline, store
from articles.nlp.preannotation import Outcome, preannotate


class Command(BaseCommand):
    help = "Runs pre-annotation in this process (no worker needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument(
            "--pending",
            action="store_true",
            help="articles never pre-annotated, imported with --no-preannotate included (the default)",
        )
        which.add_argument("--all", action="store_true", help="every article again (editors' work stays)")
        which.add_argument("--article", type=int, metavar="ID", help="one article, whatever its status")
        which.add_argument("--failed", action="store_true", help="the articles the model failed on, again")
        parser.add_argument(
            "--include-reviewed", action="store_true", help="reviewed articles too (left alone otherwise)"
        )

    def handle(
        self,
        *args: object,
        pending: bool,
        all: bool,
        article: int | None,
        failed: bool,
        include_reviewed: bool,
        **options: object,
    ) -> None:
        if article is not None:
            found = Article.objects.filter(pk=article).first()
            if found is None:
                raise CommandError(f"No article with id {article}.")
            if found.status == Article.Status.REVIEWED and not include_reviewed:
                raise CommandError(
                    f"Article {article} is reviewed: its spans are an editor's. Add --include-reviewed to run the "
                    "model on it anyway (editors' spans stay)."
                )
            store.clear_preannotation_failures([article])
            articles = Article.objects.filter(pk=article)
        elif all:
            articles = Article.objects.all()
        elif failed:
            store.clear_preannotation_failures(Article.objects.failed_preannotation().values_list("pk", flat=True))
            articles = Article.objects.never_preannotated()
        else:
            articles = Article.objects.never_preannotated()
        if not include_reviewed:
            total = articles.exclude(status=Article.Status.REVIEWED).count()
        else:
            total = articles.count()

        started = time.perf_counter()
        # A bar with the rate and the time left on a terminal; a summary line is all a log needs.
        with tqdm(total=total, unit="article", file=sys.stderr, disable=not sys.stderr.isatty()) as bar:

            def advance(done: Outcome) -> None:
                bar.update(done.articles)

            # One named article is waited for if a worker holds it; a sweep leaves held ones to their holder.
            outcome = preannotate(
                articles, include_reviewed=include_reviewed, skip_locked=article is None, on_batch=advance
            )
        seconds = time.perf_counter() - started
        self._report(outcome, seconds)

    def _report(self, outcome: Outcome, seconds: float) -> None:
        name, version = pipeline.identity()
        if outcome.new_labels:
            self.stdout.write(f"New labels from the model, created: {', '.join(outcome.new_labels)}.")
        for article_id, reason in outcome.failed.items():
            self.stdout.write(f"Article {article_id} failed: {reason}.")
        rate = f", {outcome.articles / seconds:.1f} articles/s" if outcome.articles and seconds else ""
        self.stdout.write(
            f"Pre-annotated {outcome.articles - len(outcome.failed)} articles, {len(outcome.failed)} failed: "
            f"{outcome.spans} model spans stored by {name} {version} in {seconds:.1f} s{rate}."
        )

from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.models import Article
from articles.tasks import preannotate


class Command(BaseCommand):
    help = "Runs pre-annotation in this process (no worker needed)."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--pending", action="store_true", help="articles never pre-annotated (the default)")
        which.add_argument("--all", action="store_true", help="every article not yet reviewed")
        which.add_argument("--article", type=int, metavar="ID", help="one article, whatever its status")

    def handle(self, *args, pending: bool, all: bool, article: int | None, **options) -> None:
        if article is not None:
            if not Article.objects.filter(pk=article).exists():
                raise CommandError(f"No article with id {article}.")
            ids = [article]
        elif all:
            ids = list(Article.objects.exclude(status=Article.Status.REVIEWED).values_list("pk", flat=True))
        else:
            ids = list(Article.objects.pending_preannotation().values_list("pk", flat=True))
        spans = preannotate(ids)
        self.stdout.write(f"Pre-annotated {len(ids)} articles: {spans} model spans stored.")

from django.core.management import call_command
from django.core.management.base import BaseCommand

from articles.models import Article
from articles.nlp.preannotation import preannotate


class Command(BaseCommand):
    help = "Everything `make run` needs before serving: migrate, demo users, seeds, their pre-annotation."

    def handle(self, *args: object, **options: object) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated. Demo users:")
        call_command("demo_users")
        call_command("load_seeds")
        # What a worker would take, not `preannotate --pending`: every start of `make run` must leave
        # alone the articles of an import that said no to pre-annotation.
        outcome = preannotate(Article.objects.pending_preannotation())
        done = outcome.articles - len(outcome.failed)
        self.stdout.write(f"Pre-annotated {done} articles, {len(outcome.failed)} failed: {outcome.spans} model spans.")

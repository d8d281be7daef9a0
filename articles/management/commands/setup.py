from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Everything `make run` needs before serving: migrate, demo users, seeds, their pre-annotation."

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("Database migrated. Demo users:")
        call_command("demo_users")
        call_command("load_seeds")
        call_command("preannotate", pending=True)

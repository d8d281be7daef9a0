import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from articles.site import accounts


class Command(BaseCommand):
    help = "Creates or updates a user with a role; the password is read from standard input (one line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--role", choices=accounts.ROLES, required=True)

    def handle(self, *args: object, name: str, role: str, **options: object) -> None:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CommandError(
                "No password on standard input: give one line, e.g. `echo secret | manage.py adduser ...`."
            )
        try:
            user, created = accounts.set_user(name, role, password)
        except ValidationError as error:
            raise CommandError(f"Password refused for {name}: {' '.join(error.messages)}") from None
        verb = "Created" if created else "Updated"
        self.stdout.write(f"{verb} {user.get_username()} with role {role}.")

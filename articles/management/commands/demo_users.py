import os
import secrets

from django.conf import settings
from django.core.management.base import BaseCommand

from articles.site import accounts

PASSWORD_FILE = settings.BASE_DIR / "var" / "demo-passwords.txt"


class Command(BaseCommand):
    help = (
        "Creates the demo users admin, editor and reviewer (password: DEMO_PASSWORD, else generated once) "
        "and prints them."
    )

    def handle(self, *args: object, **options: object) -> None:
        saved = (
            dict(line.split(" ", 1) for line in PASSWORD_FILE.read_text().splitlines() if " " in line)
            if PASSWORD_FILE.exists()
            else {}
        )
        chosen = os.environ.get("DEMO_PASSWORD")
        for name, role in [("admin", accounts.ADMIN), ("editor", accounts.EDITOR), ("reviewer", accounts.REVIEWER)]:
            password = chosen or saved.get(name) or secrets.token_urlsafe(12)
            accounts.set_user(name, role, password, validate=False)
            saved[name] = password
        PASSWORD_FILE.parent.mkdir(exist_ok=True)
        PASSWORD_FILE.write_text("".join(f"{name} {password}\n" for name, password in saved.items()))
        PASSWORD_FILE.chmod(0o600)
        for name in ("admin", "editor", "reviewer"):
            self.stdout.write(f"  {name:<7} password: {saved[name]}")

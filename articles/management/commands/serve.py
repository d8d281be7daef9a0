import os
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "The development web server with one background worker beside it; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", default="8000")

    def handle(self, *args: object, port: str, **options: object) -> None:
        # runserver's autoreloader runs this command again in a child process (RUN_MAIN=true) after
        # every code change; only the outer process owns the worker.
        if os.environ.get("RUN_MAIN") == "true":
            call_command("runserver", f"127.0.0.1:{port}")
            return
        worker = subprocess.Popen([sys.executable, "manage.py", "db_worker"])  # noqa: S603 (our own command)
        try:
            call_command("runserver", f"127.0.0.1:{port}")
        finally:
            worker.terminate()
            worker.wait(timeout=30)

"""Real processes of the app (workers, commands) against the test database."""

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def env(**extra: str) -> dict[str, str]:
    """The environment of a process that works on this test run's database (committed data only)."""
    params = connection.get_connection_params()
    host = quote(str(params.get("host") or "127.0.0.1"), safe="")
    port = params.get("port") or 5432
    url = f"postgres://{params.get('user') or 'postgres'}@{host}:{port}/{connection.settings_dict['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "annotator.settings_test", **extra}


def manage(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env(), **popen)  # noqa: S603


def worker(*args: str, **popen) -> subprocess.Popen:
    return manage("db_worker", "--no-startup-delay", "--interval", "0.1", "--no-reload", *args, **popen)


def wait_until(condition: Callable[[], object], timeout: float = 60, what: str = "the condition") -> object:
    """Checks the condition every 20 ms until it holds; fails after the timeout."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(0.02)
    return result

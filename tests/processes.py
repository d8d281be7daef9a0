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


def env(name: str = "annotator-test", **extra: str) -> dict[str, str]:
    """The environment of a process that works on this test run's database (committed data only);
    ``name`` is its sessions' application_name in pg_stat_activity."""
    params = connection.get_connection_params()
    host = quote(str(params.get("host") or "127.0.0.1"), safe="")
    port = params.get("port") or 5432
    user, dbname = params.get("user") or "postgres", connection.settings_dict["NAME"]
    url = f"postgres://{user}@{host}:{port}/{dbname}?application_name={name}"
    return {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "annotator.settings_test", **extra}


def manage(*args: str, name: str = "annotator-test", **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env(name), **popen)  # noqa: S603


def worker(*args: str, name: str = "annotator-worker", **popen) -> subprocess.Popen:
    return manage("db_worker", "--no-startup-delay", "--interval", "0.1", "--no-reload", *args, name=name, **popen)


def connected(names: list[str]) -> int:
    """How many of the processes with these application_names are connected to the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(DISTINCT application_name) FROM pg_stat_activity WHERE application_name = ANY(%s)", [names]
        )
        return cursor.fetchone()[0]


def in_transaction(name: str) -> bool:
    """Whether the process with this application_name is inside a transaction right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s AND xact_start IS NOT NULL", [name]
        )
        return cursor.fetchone()[0] > 0


def backend_gone(pid: int) -> bool:
    """Whether the PostgreSQL backend with this pid has ended (its client closed the connection)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def waiting_for_a_lock() -> bool:
    """Whether a session on this test run's database waits for a lock right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def wait_until(
    condition: Callable[[], object], timeout: float = 60, every: float = 0.02, what: str = "the condition"
) -> object:
    """Checks the condition every ``every`` seconds until it holds; fails after the timeout."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(every)
    return result

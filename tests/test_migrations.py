"""The squashed migration: a new database runs it alone and gets exactly the schema the 20 replaced
migrations give; a database they made, with rows in it, migrates on through it and back.

Each database here is a scratch one on the test server, migrated by ``manage.py migrate`` in its own
process as an operator runs it, and dropped at the end.
"""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from tests import processes
from tests.processes import ROOT

SQUASHED = "0001_squashed_0020_spans_checked_in_one_pass"
LAST_REPLACED = "0020_spans_checked_in_one_pass"

# The schema as PostgreSQL describes it, in a form that does not depend on the order things were
# created in (columns, constraints, indexes, triggers, the functions' text, extensions), and the rows
# the migrations write (what each of them recorded as applied, the roles and the labels).
SCHEMA = {
    "columns": """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid), a.attstorage, a.attstattarget
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
    """,
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "triggers": "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal",
    "functions": """
        SELECT proname, pg_get_functiondef(oid) FROM pg_proc
        WHERE pronamespace = 'public'::regnamespace AND prokind = 'f'
    """,
    "extensions": "SELECT extname FROM pg_extension",
    "applied": "SELECT app, name FROM django_migrations",
    "roles": """
        SELECT g.name, p.codename FROM auth_group g JOIN auth_group_permissions gp ON gp.group_id = g.id
        JOIN auth_permission p ON p.id = gp.permission_id
    """,
    "labels": 'SELECT name, description, color, hotkey, "order" FROM articles_label',
}
FILLED = ["auth_user", "articles_article", "articles_articlesearch", "articles_span", "articles_spanevent",
          "articles_annotation", "articles_versionspan", "articles_suggestion"]  # fmt: skip


def url(database: str) -> str:
    """The test server's URL, for another database on it."""
    parts = urlsplit(processes.env()["DATABASE_URL"])
    return urlunsplit(parts._replace(path=f"/{database}", query=""))


@pytest.fixture
def scratch(django_db_setup) -> Iterator[Callable[[str], str]]:
    """Makes empty databases on the test server (their URLs), and drops them at the end."""
    made = []
    server = psycopg.connect(processes.env()["DATABASE_URL"], autocommit=True)

    def make(name: str) -> str:
        database = f"{server.info.dbname}_{name}_{os.getpid()}"
        server.execute(f'DROP DATABASE IF EXISTS "{database}"')
        server.execute(f'CREATE DATABASE "{database}"')
        made.append(database)
        return url(database)

    yield make
    for database in made:
        server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    server.close()


def manage(database_url: str, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 (this interpreter, the project's own manage.py)
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=os.environ | {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "annotator.settings_test"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def snapshot(database_url: str, queries: dict[str, str]) -> dict[str, list[tuple]]:
    with psycopg.connect(database_url) as conn:
        return {name: sorted(map(tuple, conn.execute(sql).fetchall()), key=repr) for name, sql in queries.items()}


def rows(database_url: str) -> dict[str, list[tuple]]:
    return snapshot(database_url, {table: f"SELECT * FROM {table}" for table in FILLED})  # noqa: S608 (names above)


def fill(database_url: str) -> None:
    """What today's code writes: a user, an article (its search row by trigger), a model span and an
    editor's, their history, an editor's version with a span of its own, a suggestion."""
    with psycopg.connect(database_url) as conn:
        body = "Vladimir Putin visitó Moscú con Kim Jong Un."
        user = conn.execute(
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff,"
            " is_active, date_joined) VALUES ('!', false, 'eddie', '', '', '', false, true, now()) RETURNING id"
        ).fetchone()[0]
        article = conn.execute(
            "INSERT INTO articles_article (title, body, body_length, content_hash, source, external_id, status,"
            " version, created_at, updated_at) VALUES ('Putin', %s, %s, md5(%s), '', '', 'in_review', 3, now(), now())"
            " RETURNING id",
            [body, len(body), body],
        ).fetchone()[0]
        per, loc = (
            conn.execute("SELECT id FROM articles_label WHERE name = %s", [n]).fetchone()[0] for n in ("PER", "LOC")
        )
        span = (
            'INSERT INTO articles_span (article_id, label_id, start, "end", origin, model_name, model_version,'
            " created_at, updated_at, created_by_id, updated_by_id) VALUES (%s, %s, %s, %s, %s, %s, '1', now(), now(),"
            " %s, %s) RETURNING id"
        )
        model = conn.execute(span, [article, per, 0, 14, "model", "es_core_news_sm", None, None]).fetchone()[0]
        edited = conn.execute(span, [article, loc, 22, 27, "editor", "", user, user]).fetchone()[0]
        for span_id, kind, actor, version in [(model, "created", None, 1), (edited, "created", user, 2)]:
            conn.execute(
                "INSERT INTO articles_spanevent (span_id, kind, origin, at, article_version, before_label,"
                " after_label, model, article_id, actor_id) VALUES (%s, %s, 'editor', now(), %s, '', 'PER', '', %s,"
                " %s)",
                [span_id, kind, version, article, actor],
            )
        annotation = conn.execute(
            "INSERT INTO articles_annotation (slot, version, started_at, updated_at, article_id, editor_id)"
            " VALUES (1, 1, now(), now(), %s, %s) RETURNING id",
            [article, user],
        ).fetchone()[0]
        conn.execute(
            'INSERT INTO articles_versionspan (start, "end", origin, model_name, model_version, created_at,'
            " updated_at, annotation_id, article_id, label_id) VALUES (32, 43, 'editor', '', '', now(), now(), %s,"
            " %s, %s)",
            [annotation, article, per],
        )
        conn.execute(
            'INSERT INTO articles_suggestion (start, "end", status, source_span_id, created_at, article_id,'
            " label_id) VALUES (32, 43, 'pending', %s, now(), %s, %s)",
            [model, article, per],
        )


def still_refuses_overlaps(database_url: str) -> bool:
    with psycopg.connect(database_url) as conn:
        article, label = conn.execute("SELECT article_id, label_id FROM articles_span LIMIT 1").fetchone()
        try:
            conn.execute(
                'INSERT INTO articles_span (article_id, label_id, start, "end", origin, model_name, model_version,'
                " created_at, updated_at) VALUES (%s, %s, 5, 20, 'editor', '', '', now(), now())",
                [article, label],
            )
        except psycopg.errors.ExclusionViolation:
            conn.rollback()
            return True
    return False


def applied(database_url: str) -> set[str]:
    return {name for app, name in snapshot(database_url, {"a": SCHEMA["applied"]})["a"] if app == "articles"}


@pytest.mark.django_db
def test_a_new_database_runs_the_squashed_migration_alone_and_gets_the_replaced_ones_schema(scratch):
    new, old = scratch("new"), scratch("old")
    plan = manage(new, "migrate", "--plan")
    assert f"articles.{SQUASHED}" in plan and "articles.0002_triggers" not in plan
    manage(new, "migrate")
    # The replaced migrations one by one (Django takes them when the target is one of them), then the rest.
    assert "Applying articles.0002_triggers" in manage(old, "migrate", "articles", LAST_REPLACED)
    manage(old, "migrate")
    assert SQUASHED in applied(old)  # recorded as soon as all it replaces are
    made_new, made_old = snapshot(new, SCHEMA), snapshot(old, SCHEMA)
    for what in SCHEMA:
        assert made_new[what] == made_old[what], what
    assert len(made_new["triggers"]) == 11
    assert len([name for name, _ in made_new["functions"] if name.startswith("articles_")]) == 12


@pytest.mark.django_db
def test_rows_written_before_the_squash_survive_it_and_going_back_and_forth(scratch):
    database = scratch("rows")
    manage(database, "migrate", "articles", LAST_REPLACED)
    fill(database)
    before = rows(database)
    assert all(before[table] for table in FILLED)

    manage(database, "migrate", "articles", SQUASHED)  # later migrations add columns of their own
    assert SQUASHED in applied(database) and rows(database) == before
    assert still_refuses_overlaps(database)

    # Back through 0020's own reversal: Django takes the replaced migrations for a target among them.
    manage(database, "migrate", "articles", "0019_training_runs")
    assert LAST_REPLACED not in applied(database) and rows(database) == before
    manage(database, "migrate", "articles", SQUASHED)  # later migrations add columns of their own
    assert SQUASHED in applied(database) and rows(database) == before
    assert still_refuses_overlaps(database)

"""The database's own rules (``sql/triggers.sql``), as the migrations install them."""

from pathlib import Path

import sqlparse
from django.db import migrations

from articles.models.corpus import SEARCH_CONFIG

TRIGGERS = Path(__file__).parent / "sql" / "triggers.sql"

# What the file's DROP undoes: every function it creates, with the triggers that call them.
FUNCTIONS = [
    "articles_refuse_repeatable_read()",
    "articles_refuse_overlap(bigint, int, int, int, int)",
    "articles_refuse_missing(text, bigint)",
    "articles_spans_valid()",
    "articles_span_valid()",
    "articles_refuse_orphan_spans()",
    "articles_versionspans_valid()",
    "articles_versionspan_valid()",
    "articles_refuse_update()",
    "articles_body_immutable()",
    "articles_search_pending()",
    "articles_article_search()",
]


def parameters() -> dict[str, str]:
    return {"search_config": SEARCH_CONFIG}


def statements(path: Path = TRIGGERS) -> list[str]:
    """The file's statements, split the way Django's RunSQL splits a script (function bodies whole)."""
    script = sqlparse.format(path.read_text(encoding="utf-8"), strip_comments=True)
    return [statement for statement in sqlparse.split(script) if statement.strip()]


def install() -> migrations.RunSQL:
    """Creates or replaces every function and trigger of the file; reversed, drops them all."""
    values = parameters()
    drop = f"DROP FUNCTION {', '.join(FUNCTIONS)} CASCADE"
    return migrations.RunSQL([(statement, values) for statement in statements()], [drop])

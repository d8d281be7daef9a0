"""Exporting a million spans over 50,000 articles to CSV, against PostgreSQL's own COPY of the same rows.

Run with ``make bench``. Prints the figures quoted in docs/benchmarks.md ("Exporting").
"""

import hashlib
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from articles.export.filters import ExportFilters
from articles.export.rows import CSV_COLUMNS, csv_select
from articles.models import Span
from tests.benchmarks import corpus

ARTICLES = 50_000
SPANS_PER_ARTICLE = 20
# One sentence of a wire story, repeated: accents, an emoji with a joiner, quotes, a comma and a
# line break, so that PostgreSQL quotes cells and counts code points, not bytes.
SEGMENT = "La ministra María Núñez 👩‍⚖️ dijo en Bogotá, «con énfasis», que el acuerdo “sigue vigente”.\n"
ENTITY = "María Núñez"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.django_db(transaction=True)


def _generate() -> None:
    """50,000 articles with 20 spans each, written by PostgreSQL itself (generate_series)."""
    length, at = len(SEGMENT), SEGMENT.index(ENTITY)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO articles_article (title, body, body_length, content_hash, source, external_id, status,
                                          version, created_at, updated_at)
            SELECT CASE WHEN g %% 100 = 0 THEN '=HYPERLINK("x")' ELSE 'Artículo ' || g END,
                   b.body, char_length(b.body), encode(sha256(convert_to(b.body, 'UTF8')), 'hex'),
                   'https://example.org/' || g, '', (ARRAY['pre_annotated', 'in_review', 'reviewed'])[g %% 3 + 1],
                   1, now(), now()
            FROM generate_series(1, %s) g, LATERAL (SELECT repeat(%s, %s) || 'Nota ' || g AS body) b
            """,
            [ARTICLES, SEGMENT, SPANS_PER_ARTICLE],
        )
        cursor.execute(
            """
            INSERT INTO articles_span (article_id, start, "end", label_id, origin, model_name, model_version,
                                       created_at, updated_at)
            SELECT a.id, i * %s + %s, i * %s + %s + %s,
                   (SELECT id FROM articles_label WHERE name = 'PER'), 'model', 'bench', '1', now(), now()
            FROM articles_article a, generate_series(0, %s - 1) i
            """,
            [length, at, length, at, len(ENTITY), SPANS_PER_ARTICLE],
        )
    # As a settled database is: statistics, hint bits and the visibility map written now, rather than
    # by autovacuum in the middle of a measurement.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE articles_article, articles_span, articles_label, auth_user")


def _postgres_copy(sql: str, params) -> tuple[float, str, int]:
    digest, size = hashlib.sha256(), 0
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for data in copy:
            digest.update(data)
            size += len(data)
    return time.perf_counter() - started, digest.hexdigest(), size


def test_csv_export_of_a_million_spans_keeps_up_with_postgres_copy(tmp_path, as_admin, child_env):
    started = time.perf_counter()
    _generate()
    spans = Span.objects.count()
    print(f"\ngenerated {ARTICLES} articles, {spans} spans in {time.perf_counter() - started:.1f} s")
    assert spans == ARTICLES * SPANS_PER_ARTICLE

    # The whole export as one statement: PostgreSQL's own rate for these rows.
    everything = ExportFilters({})
    assert everything.is_valid()
    select = csv_select(everything.spans())
    copy_seconds, copy_digest, copy_bytes = _postgres_copy(*select)

    # The export as users run it: the command, in its own process, to a file.
    out = tmp_path / "spans.csv"
    command = [sys.executable, "manage.py", "export_spans", "-o", str(out)]
    run = corpus.run_command(command, cwd=ROOT, env=child_env)
    export_seconds, rss_mb = run.seconds, run.peak_mb
    assert run.returncode == 0

    data = out.read_bytes()
    header, _, rows = data.partition(b"\n")
    assert header.decode() == ",".join(CSV_COLUMNS)
    # The same bytes as PostgreSQL's single COPY: the same rows, in the same order.
    assert hashlib.sha256(rows).hexdigest() == copy_digest and len(rows) == copy_bytes

    # PostgreSQL again after the export, and its better time, so that noise never favours the export.
    copy_seconds = min(copy_seconds, _postgres_copy(*select)[0])

    # The first span row through the web view, then the client goes away.
    started = time.perf_counter()
    response = as_admin.get("/export/spans.csv")
    chunks = iter(response.streaming_content)
    next(chunks)  # the header, written before any query
    next(chunks)
    first_row_seconds = time.perf_counter() - started
    response.close()

    copy_rate, export_rate = spans / copy_seconds, spans / export_seconds
    print(
        f"PostgreSQL COPY of the same rows: {copy_seconds:.2f} s "
        f"({copy_rate:,.0f} spans/s, {copy_bytes / 1e6:.0f} MB)\n"
        f"manage.py export_spans (own process, to a file): {export_seconds:.2f} s ({export_rate:,.0f} spans/s), "
        f"{export_rate / copy_rate:.0%} of COPY's rate, peak RSS {rss_mb:.0f} MB\n"
        f"first span row through /export/spans.csv: {first_row_seconds * 1000:.0f} ms"
    )
    assert export_rate >= copy_rate / 2
    assert rss_mb < 200
    assert first_row_seconds < 1

"""The queue at 100,000 articles: first page, a middle page by keyset, searches and filters, next article.

Run with ``make bench``. Prints the figures quoted in docs/benchmarks.md ("Queue"): the server time of
each request through Django's test client (middleware, session, permissions, queries, template),
median and worst of the runs.
"""

import statistics
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.ingest.indexing import build_pending
from articles.models import Article
from articles.queue import leases

ARTICLES = 100_000
RUNS = 15
# A Spanish wire vocabulary; each body draws 80 words from it, so a word is in about a third of
# the articles. "Valparaíso" is added to one article in a thousand: a rare search.
WORDS = (
    "el gobierno anunció ayer que las elecciones regionales se celebrarán en marzo mientras la oposición "
    "pide reformas al congreso y los sindicatos convocan una huelga general en la capital del país "
    "según fuentes oficiales el ministro de economía presentará el presupuesto ante el parlamento "
    "la policía detuvo a tres personas tras los disturbios en el centro histórico de la ciudad "
    "el presidente viajará a bruselas para reunirse con la comisión europea y la otan"
).split()

pytestmark = pytest.mark.django_db


def _generate(editor_ids: list[int]) -> None:
    """100,000 articles, three spans on each pre-annotated one, written by PostgreSQL itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO articles_article (title, body, body_length, content_hash, source, external_id, status,
                                          version, created_at, updated_at, updated_by_id)
            SELECT 'Nota ' || g || ': ' || w[1 + g %% cardinality(w)], b.body, char_length(b.body),
                   encode(sha256(convert_to(b.body, 'UTF8')), 'hex'), '', '',
                   (ARRAY['new', 'pre_annotated', 'in_review', 'reviewed'])[g %% 4 + 1], 1,
                   now() - g * interval '1 minute', now() - ((g * 7919) %% %s) * interval '1 second',
                   (%s::bigint[])[g %% 3 + 1]
            FROM generate_series(1, %s) g, (SELECT %s::text[] AS w) v,
                 LATERAL (
                     SELECT 'Nota ' || g || '. ' || string_agg(w[1 + (g * 7 + j * j * 13) %% cardinality(w)], ' ')
                            || CASE WHEN g %% 1000 = 0 THEN ' Valparaíso.' ELSE '.' END AS body
                     FROM generate_series(1, 80) j
                 ) b
            """,
            [ARTICLES, [*editor_ids, None], ARTICLES, WORDS],
        )
        cursor.execute(
            """
            INSERT INTO articles_span (article_id, start, "end", label_id, origin, model_name, model_version,
                                       created_at, updated_at)
            SELECT a.id, 12 + k * 12, 12 + k * 12 + 5, l.id, 'model', 'bench', '1', now(), now()
            FROM articles_article a, generate_series(0, 2) k,
                 LATERAL (SELECT id FROM articles_label ORDER BY "order" OFFSET (a.id / 4 + k) % 4 LIMIT 1) l
            WHERE a.status <> 'new'
            """
        )
    # As a worker does after an import: the articles' search rows.
    build_pending()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_article; ANALYZE articles_span; ANALYZE articles_articlesearch")


def _time(client, url: str, headers: dict) -> tuple[float, float, str]:
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        response = client.get(url, **headers)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, url
    return statistics.median(timings), max(timings), response.content.decode()


def test_queue_speed_at_100000_articles(as_editor, editor, other_editor):
    started = time.perf_counter()
    _generate([editor.pk, other_editor.pk])
    print(
        f"\n{ARTICLES:,} articles, {ARTICLES * 3 // 4 * 3:,} spans generated in {time.perf_counter() - started:.1f} s"
    )
    middle = Article.objects.order_by("pk").values_list("pk", flat=True)[ARTICLES // 2]
    cases = [
        ("first page", "/articles/"),
        ("middle page (keyset, by id)", f"/articles/?after={middle}"),
        ("middle page (keyset, recently changed)", f"/articles/?ordering=-updated_at&after={middle}"),
        ("page before the middle one", f"/articles/?before={middle}"),
        ("search, common word (elecciones)", "/articles/?q=elecciones"),
        ("search, rare word (valparaiso)", "/articles/?q=valparaiso"),
        ("search + status + label", "/articles/?q=gobierno&status=in_review&label=LOC"),
        ("label filter (ORG)", "/articles/?label=ORG"),
        ("status filter, title order", "/articles/?status=reviewed&ordering=title"),
        ("HTMX table swap, middle page", f"/articles/?after={middle}"),
    ]
    print(f"{'request':<42} {'median ms':>10} {'max ms':>8} {'SQL ms':>7} {'queries':>8}  rows")
    for name, url in cases:
        headers = {"HTTP_HX_REQUEST": "true"} if name.startswith("HTMX") else {}
        with CaptureQueriesContext(connection) as queries:
            as_editor.get(url, **headers)
        # 12 for a full page (session, user, 2 permissions, page, span counts, count, labels and
        # batches for the form, and pre-annotation's progress: waiting, pace, failures), one more to
        # look up a label filter's label; fewer for an HTMX swap.
        count, sql = len(queries), sum(float(query["time"]) for query in queries.captured_queries) * 1000
        assert count <= 13, name
        median, worst, html = _time(as_editor, url, headers)
        rows = html.count("<tr data-article-id=")
        print(f"{name:<42} {median:>10.1f} {worst:>8.1f} {sql:>7.0f} {count:>8}  {rows}")
        assert rows == 50, name

    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT a.id FROM articles_article a JOIN articles_articlesearch s ON s.article_id = a.id"
            " WHERE s.document @@ websearch_to_tsquery('spanish', 'valparaiso') ORDER BY a.id LIMIT 51"
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print("rare word search uses the GIN index:", "articlesearch_document" in plan)
    assert "articlesearch_document" in plan

    # What the keyset saves: the same middle page by OFFSET, and an exact count.
    with connection.cursor() as cursor:
        for name, sql in [
            (
                "OFFSET 50000 LIMIT 50 (for comparison)",
                "SELECT id, title FROM articles_article ORDER BY id OFFSET 50000 LIMIT 50",
            ),
            ("exact count(*) (for comparison)", "SELECT count(*) FROM articles_article"),
            ("capped count (up to 1,000)", "SELECT count(*) FROM (SELECT id FROM articles_article LIMIT 1000) s"),
        ]:
            timings = []
            for _ in range(RUNS):
                started = time.perf_counter()
                cursor.execute(sql)
                cursor.fetchall()
                timings.append((time.perf_counter() - started) * 1000)
            print(f"{name:<42} {statistics.median(timings):>10.1f} {max(timings):>8.1f}")

    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        article = leases.lease_next(editor)
        timings.append((time.perf_counter() - started) * 1000)
    assert article is not None
    print(f"{'next article (lease_next)':<42} {statistics.median(timings):>10.1f} {max(timings):>8.1f}")

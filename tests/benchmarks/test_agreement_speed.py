"""Agreement between editors over 10,000 articles annotated twice, in under 10 s.

Run with ``make bench``; the figures are printed and quoted in docs/benchmarks.md ("Team review").
The corpus is written by PostgreSQL itself (generate_series): articles of about 3,000 characters,
each with two finished versions of 40 spans that agree on most of them (800,000 spans in all).
"""

import time

import pytest
from django.db import connection

from articles.review.agreement import agreement
from tests.conftest import _user

pytestmark = pytest.mark.django_db

ARTICLES = 10_000
SENTENCE = "Vladimir Putin visitó Moscú con Kim Jong Un y la OTAN en Bruselas el lunes. "
BLOCKS = 40  # sentences per article: about 3,000 characters
TARGET_SECONDS = 10


def at(text: str) -> tuple[int, int]:
    start = SENTENCE.index(text)
    return start, start + len(text)


# Per sentence: both versions mark Putin and Moscú alike; they differ on Kim (boundary), OTAN (label)
# and Bruselas (only the first marks it). Ten sentences of forty carry the spans: 40 spans a version.
FIRST = [("Vladimir Putin", "PER"), ("Moscú", "LOC"), ("Kim Jong Un", "PER"), ("OTAN", "ORG")]
SECOND = [("Vladimir Putin", "PER"), ("Moscú", "LOC"), ("Kim", "PER"), ("OTAN", "LOC")]
MARKED = 10


ARTICLES_SQL = """
INSERT INTO articles_article (title, body, body_length, content_hash, source, external_id, status, version,
                              created_at, updated_at, double)
SELECT 'Doble ' || i, b, char_length(b), md5(b) || md5(b), '', '', 'in_review', 1, now(), now(), true
FROM generate_series(1, %(n)s) i,
     LATERAL (SELECT lpad(i::text, 6, '0') || '. ' || repeat(%(sentence)s, %(blocks)s) AS b) x
"""
VERSIONS_SQL = """
INSERT INTO articles_annotation (article_id, editor_id, slot, version, started_at, updated_at, finished_at)
SELECT a.id, e.editor, e.slot, 2, now(), now(), now() - (a.id %% 20) * interval '1 day'
FROM articles_article a, (VALUES (%(first)s::bigint, 1), (%(second)s::bigint, 2)) e(editor, slot)
WHERE a.double
"""
SPANS_SQL = """
INSERT INTO articles_versionspan (annotation_id, article_id, start, "end", label_id, origin, model_name,
                                  model_version, created_at, updated_at)
SELECT v.id, v.article_id, p.offset + s.start, p.offset + s."end", l.id, 'editor', '', '', now(), now()
FROM articles_annotation v
CROSS JOIN (SELECT %(prefix)s + b * %(length)s AS offset FROM generate_series(0, %(marked)s - 1) b) p
CROSS JOIN unnest(%(starts)s::int[], %(ends)s::int[], %(labels)s::text[]) s(start, "end", label)
JOIN articles_label l ON l.name = s.label
WHERE v.slot = %(slot)s
"""


def build(first_editor, second_editor) -> None:
    with connection.cursor() as cursor:
        cursor.execute(ARTICLES_SQL, {"n": ARTICLES, "sentence": SENTENCE, "blocks": BLOCKS})
        cursor.execute(VERSIONS_SQL, {"first": first_editor.pk, "second": second_editor.pk})
        for slot, spans in ((1, FIRST), (2, SECOND)):
            places = [at(text) for text, _label in spans]
            cursor.execute(
                SPANS_SQL,
                {
                    "prefix": len("000001. "),
                    "length": len(SENTENCE),
                    "marked": MARKED,
                    "slot": slot,
                    "starts": [start for start, _end in places],
                    "ends": [end for _start, end in places],
                    "labels": [label for _text, label in spans],
                },
            )
        cursor.execute("ANALYZE articles_article, articles_annotation, articles_versionspan")


def test_agreement_over_10000_articles_annotated_twice_takes_under_10_s():
    first, second = _user("primera", "editor"), _user("segundo", "editor")
    started = time.perf_counter()
    build(first, second)
    print(f"\nbuilt {ARTICLES:,} articles annotated twice in {time.perf_counter() - started:.1f} s")
    timings, cpu = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        figures = agreement()
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    per = {row["label"]: row for row in figures["labels"]}
    print(
        f"agreement over {figures['articles']:,} articles: best {min(timings):.2f} s, worst {max(timings):.2f} s "
        f"(this process's CPU: best {min(cpu):.2f} s); "
        f"exact F1 {figures['overall']['exact']:.3f}, overlap F1 {figures['overall']['overlap']:.3f}, "
        f"kappa {figures['kappa']:.3f}; {len(figures['over_time'])} days"
    )
    assert figures["articles"] == ARTICLES
    # Putin and Moscú agree, Kim and OTAN do not: exact F1 is one half; by overlap only OTAN differs.
    assert figures["overall"]["exact"] == pytest.approx(0.5)
    assert figures["overall"]["overlap"] == pytest.approx(0.75)
    assert per["LOC"]["spans"] == [ARTICLES * MARKED, ARTICLES * MARKED * 2]
    assert min(timings) < TARGET_SECONDS

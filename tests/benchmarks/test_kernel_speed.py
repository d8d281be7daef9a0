"""Pre-annotation speed: bare ``nlp.pipe`` on blis (what spaCy does by default) and on the kernels the app
picks (articles/nlp/kernels.py), and the app's own pre-annotation (``manage.py preannotate`` in this process)
over articles in the database. Run with ``make bench``; prints the figures quoted in docs/benchmarks.md
("Speed of the model").

Rates are words (whitespace-separated) per second of the process's CPU time (``time.process_time``), which
other work on a shared machine does not inflate, and per second of wall time beside them. The app's CPU
time is the Python process's; PostgreSQL's own work is in its server process and shows in the wall time.
"""

import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.models import Span
from articles.nlp import pipeline
from tests import spanish_news

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = 64  # the seed article and 63 of about its length: ~48,000 words
SENTENCES = (20, 40)
RUNS = 3
TARGET = 45_000  # words per CPU second, bare `ner`, one process
APP_SHARE = 0.9

pytestmark = pytest.mark.django_db(transaction=True)

BARE = """
import hashlib, json, sys, time, django
django.setup()
from articles.nlp import kernels, pipeline
texts = json.load(sys.stdin)
model = pipeline.active()  # as the app loads it: only the components that set entities, `ner`
list(model.pipe(texts[:8], batch_size=pipeline.BATCH_SIZE))
runs = []
for _ in range(int(sys.argv[1])):
    wall, cpu = time.perf_counter(), time.process_time()
    docs = list(model.pipe(texts, batch_size=pipeline.BATCH_SIZE))
    runs.append((time.process_time() - cpu, time.perf_counter() - wall))
entities = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
print(json.dumps({
    "library": kernels.chosen().library, "pipes": model.pipe_names, "runs": runs,
    "entities": sum(map(len, entities)), "hash": hashlib.sha256(json.dumps(entities).encode()).hexdigest(),
}))
"""


def bare(blas: str, texts: list[str], env: dict[str, str]) -> dict:
    run = subprocess.run(  # noqa: S603 (this interpreter, our own code)
        [sys.executable, "-c", BARE, str(RUNS)],
        cwd=ROOT,
        env=env | {"SPACY_BLAS": blas},
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def rates(runs: list[tuple[float, float]], words: int) -> tuple[float, float]:
    """Best words per CPU second and best words per wall second over the runs."""
    return words / min(cpu for cpu, _ in runs), words / min(wall for _, wall in runs)


def test_pre_annotation_runs_at_the_speed_of_the_fast_kernels(make_article, child_env):
    texts = spanish_news.articles(ARTICLES, SENTENCES)
    words = spanish_news.words(texts)

    stock = bare("blis", texts, child_env)
    fast = bare("auto", texts, child_env)
    assert stock["pipes"] == fast["pipes"] == ["ner"]
    assert (fast["entities"], fast["hash"]) == (stock["entities"], stock["hash"])

    for text in texts:
        make_article(text)
    list(pipeline.entities(texts[:8]))  # the pipeline loaded and warm, as in a worker after its first task
    app_runs = []
    for _ in range(RUNS):  # each run replaces the model spans of the run before
        wall, cpu = time.perf_counter(), time.process_time()
        call_command("preannotate", "--all", stdout=io.StringIO())
        app_runs.append((time.process_time() - cpu, time.perf_counter() - wall))
    assert Span.objects.count() == fast["entities"]

    stock_cpu, stock_wall = rates(stock["runs"], words)
    fast_cpu, fast_wall = rates(fast["runs"], words)
    app_cpu, app_wall = rates(app_runs, words)
    print(
        f"\n{len(texts)} articles, {words:,} words, {fast['entities']:,} entities (identical on both kernels); "
        f"best of {RUNS}, words/s (CPU time | wall time)\n"
        f"  bare nlp.pipe, ner, blis (spaCy's default):   {stock_cpu:>8,.0f} | {stock_wall:>8,.0f}\n"
        f"  bare nlp.pipe, ner, {fast['library']:<5} (SPACY_BLAS=auto): {fast_cpu:>8,.0f} | {fast_wall:>8,.0f}"
        f"   ({fast_cpu / stock_cpu:.1f}x)\n"
        f"  app, manage.py preannotate, {fast['library']:<5}:    {app_cpu:>8,.0f} | {app_wall:>8,.0f}"
        f"   ({app_cpu / fast_cpu:.0%} of bare)"
    )
    assert fast_cpu >= TARGET
    assert app_cpu >= APP_SHARE * fast_cpu, "storing the spans costs the app more than a tenth of the model's time"

"""Background workers as they run in production: real `manage.py db_worker` processes."""

import signal
import subprocess

import pytest
from django.conf import settings
from django.db.models import Count, Max, Min
from django_tasks_db.models import DBTaskResult

from articles.ingest.records import normalise
from articles.ingest.seeds import read_highlighted
from articles.models import Article, Span, SpanEvent
from articles.nlp import pipeline, preannotation
from tests import processes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seed_articles(make_article):
    """Full-length news articles (the seed's text, numbered), so that a batch takes the model a while."""
    [path] = (settings.BASE_DIR / "seeds").glob("*.txt")
    text, _ = read_highlighted(normalise(path.read_text(encoding="utf-8")))

    def make(n: int) -> list[int]:
        return [make_article(f"{text}\n\nNota {i}.").pk for i in range(n)]

    return make


def assert_each_article_has_exactly_one_set_of_model_spans(ids: list[int]) -> None:
    articles = Article.objects.filter(pk__in=ids)
    assert set(articles.values_list("status", flat=True)) == {Article.Status.PRE_ANNOTATED}
    # One store each: version 1 at import, 2 after the model's one run.
    assert set(articles.values_list("version", flat=True)) == {2}
    runs = SpanEvent.objects.filter(article_id__in=ids).values("article_id")
    runs = runs.annotate(low=Min("article_version"), high=Max("article_version"))
    assert {(r["low"], r["high"]) for r in runs} == {(2, 2)}
    # Exactly the spans the model finds, once: compare with the model run here.
    sample = Article.objects.get(pk=ids[-1])
    expected = [(s.start, s.end, s.label) for s in next(pipeline.entities([sample.body]))]
    assert list(sample.spans.values_list("start", "end", "label__name")) == expected
    counts = set(articles.annotate(n=Count("spans")).values_list("n", flat=True))
    assert counts == {len(expected)}
    created = SpanEvent.objects.filter(article_id__in=ids, kind="created")
    assert created.count() == Span.objects.filter(article_id__in=ids).count()


def test_two_workers_split_the_work_without_doing_an_article_twice(seed_articles, monkeypatch):
    monkeypatch.setattr(preannotation, "QUEUE_CHUNK", 16)
    ids = seed_articles(80)
    assert preannotation.queue_preannotation(ids) == 5
    workers = [processes.worker("--batch", name=f"worker-{n}") for n in (1, 2)]
    assert [w.wait(timeout=300) for w in workers] == [0, 0]
    assert_each_article_has_exactly_one_set_of_model_spans(ids)
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}


def test_a_worker_killed_mid_batch_loses_nothing(seed_articles):
    ids = seed_articles(80)
    preannotation.queue_preannotation(ids)
    doomed = processes.worker(name="doomed-worker", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    done = Article.objects.filter(status=Article.Status.PRE_ANNOTATED)
    # Mid-batch: a first batch is stored and the worker is inside the transaction of the next one.
    processes.wait_until(
        lambda: done.count() >= pipeline.BATCH_SIZE and processes.in_transaction("doomed-worker"),
        timeout=180,
        what="the worker to be in the middle of its second batch",
    )
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    processes.wait_until(lambda: not processes.in_transaction("doomed-worker"), what="PostgreSQL to end its session")
    # Whole batches or nothing: the batch it was in the middle of left no trace.
    stored = done.count()
    assert stored % pipeline.BATCH_SIZE == 0 and stored < len(ids)
    assert not Span.objects.exclude(article__status=Article.Status.PRE_ANNOTATED).exists()
    assert DBTaskResult.objects.get().status == "RUNNING"
    # The next worker to start puts the dead one's task back in the queue and finishes it.
    successor = processes.worker("--batch", name="successor", stdout=subprocess.PIPE, text=True)
    out, _ = successor.communicate(timeout=300)
    assert successor.returncode == 0
    assert "Requeued 1 pre-annotation tasks whose worker died." in out
    assert_each_article_has_exactly_one_set_of_model_spans(ids)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_a_running_worker_picks_up_what_a_dead_one_left_when_its_next_task_comes(seed_articles, make_article):
    ids = seed_articles(40)
    preannotation.queue_preannotation(ids)
    doomed = processes.worker(name="doomed-worker", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    processes.wait_until(lambda: processes.in_transaction("doomed-worker"), timeout=180, what="a claimed batch")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    # Any later task sweeps the articles still waiting, whatever task they came with.
    late = make_article("Pedro Sánchez llegó a Bruselas.").pk
    preannotation.queue_preannotation([late])
    survivor = processes.worker("--batch", name="survivor", stdout=subprocess.DEVNULL)
    assert survivor.wait(timeout=300) == 0
    assert_each_article_has_exactly_one_set_of_model_spans(ids)
    assert Article.objects.get(pk=late).status == Article.Status.PRE_ANNOTATED

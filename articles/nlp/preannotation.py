"""Pre-annotation, by workers through Django's Tasks API or in process, the same code either way.

Batches are claimed with ``SELECT ... FOR UPDATE SKIP LOCKED``, each in one transaction: workers
never do an article twice, and a killed worker's batch is rolled back and freed for another
(docs/preannotation.md).
"""

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import batched

from django.db import connection, transaction
from django.tasks import TaskContext, TaskResultStatus, task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles.models import Article, ArticleQuerySet, Label
from articles.nlp import pipeline, store

log = logging.getLogger(__name__)

# Article ids per queued task: a million imported articles make a thousand small task rows.
QUEUE_CHUNK = 1000
_model_lock = threading.Lock()
RATE_WINDOW = timedelta(minutes=1)


@dataclass
class Outcome:
    articles: int = 0
    spans: int = 0
    failed: dict[int, str] = field(default_factory=dict)
    new_labels: list[str] = field(default_factory=list)

    def add(self, other: "Outcome") -> None:
        self.articles += other.articles
        self.spans += other.spans
        self.failed |= other.failed
        self.new_labels += [label for label in other.new_labels if label not in self.new_labels]


def preannotate(
    articles: ArticleQuerySet,
    *,
    include_reviewed: bool = False,
    skip_locked: bool = True,
    on_batch: Callable[[Outcome], None] | None = None,
) -> Outcome:
    """Runs the model over these articles, a batch at a time, and stores its spans.

    Without ``skip_locked``, waits for the articles another process holds and takes those that
    still match (the ones a dead process let go).
    """
    outcome = Outcome(new_labels=Label.objects.ensure(pipeline.labels()))
    if outcome.new_labels:
        log.warning("The model has labels the project did not know; created: %s", ", ".join(outcome.new_labels))
    if not include_reviewed:
        articles = articles.exclude(status=Article.Status.REVIEWED)
    lanes = _Lanes(articles, pipeline.identity(), include_reviewed, skip_locked, outcome, on_batch)
    if connection.in_atomic_block:
        # The caller's transaction must see everything: one lane, on its connection.
        lanes.run()
    else:
        with _second_lane() as pool:
            other = pool.submit(lanes.run)
            lanes.run()
            other.result()
    return outcome


_second = threading.local()


@contextmanager
def _second_lane() -> Iterator[ThreadPoolExecutor]:
    """The second lane's thread and connection, shared by every ``preannotate()`` inside: each new
    connection costs PostgreSQL CPU to warm its caches."""
    if pool := getattr(_second, "pool", None):
        yield pool
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        _second.pool = pool
        try:
            yield pool
        finally:
            del _second.pool
            pool.submit(lambda: connection.close()).result()  # the lane thread's connection


class _Lanes:
    """Two lanes, each with its own connection, take turns with the model so the database's time
    hides behind it; one shared cursor over the articles keeps them from taking the same ones."""

    def __init__(
        self,
        articles: ArticleQuerySet,
        model: tuple[str, str],
        include_reviewed: bool,
        skip_locked: bool,
        outcome: Outcome,
        on_batch: Callable[[Outcome], None] | None,
    ) -> None:
        self.articles, self.model, self.include_reviewed, self.skip_locked = (
            articles,
            model,
            include_reviewed,
            skip_locked,
        )
        self.outcome, self.on_batch = outcome, on_batch
        self.last = 0
        self.claiming, self.reporting = threading.Lock(), threading.Lock()

    def run(self) -> None:
        while True:
            with transaction.atomic():
                _batch_settings()
                with self.claiming:
                    claimed = (
                        self.articles.filter(pk__gt=self.last)
                        .order_by("pk")
                        .only("pk", "body")
                        .select_for_update(skip_locked=self.skip_locked, of=("self",), no_key=True)
                    )
                    batch = list(claimed[: pipeline.BATCH_SIZE])
                    if not batch:
                        return
                    self.last = batch[-1].pk
                done = _process(batch, self.model, self.include_reviewed)
            with self.reporting:
                self.outcome.add(done)
                if self.on_batch:
                    self.on_batch(done)


def _batch_settings() -> None:
    """Settings of a batch's transaction alone.

    ``synchronous_commit`` off: a crash loses the last batches whole, their articles pending again.
    ``enable_seqscan`` off: while workers fill the tables faster than autovacuum analyses them, the
    planner would scan them whole.
    """
    with connection.cursor() as cursor:
        # set_config(..., true) is SET LOCAL.
        cursor.execute(
            "SELECT set_config('synchronous_commit', 'off', true), set_config('enable_seqscan', 'off', true)"
        )


def _process(batch: list[Article], model: tuple[str, str], include_reviewed: bool) -> Outcome:
    """One claimed batch: what the model cannot read is set aside with the reason, the rest goes on."""
    limit = pipeline.active().max_length  # looked up once a batch: finding the active model is a query
    failed = {article.pk: reason for article in batch if (reason := pipeline.unreadable(article.body, limit))}
    readable = [article for article in batch if article.pk not in failed]
    # One model run at a time in a process: a worker is one core's worth of spaCy.
    with _model_lock:
        try:
            outputs = dict(zip((a.pk for a in readable), pipeline.entities(a.body for a in readable), strict=True))
        except Exception:  # noqa: BLE001 (any error of the model's: find the article that caused it)
            outputs = {}
            for article in readable:
                try:
                    outputs[article.pk] = next(pipeline.entities([article.body]))
                except Exception as error:  # noqa: BLE001 (recorded as the article's failure)
                    failed[article.pk] = f"the model failed: {type(error).__name__}: {error}"
    spans = store.store_model_output(outputs, *model, include_reviewed=include_reviewed)
    if failed:
        store.mark_preannotation_failed(failed)
        for article_id, reason in failed.items():
            log.warning("Article %s not pre-annotated: %s", article_id, reason)
    return Outcome(articles=len(batch), spans=spans, failed=failed)


@task(takes_context=True)
def preannotate_articles(context: TaskContext[[list[int]], dict[str, int]], article_ids: list[int]) -> dict[str, int]:
    with _alive(context.task_result.id), _second_lane():
        requeue_abandoned(but=context.task_result.id)
        chunk = Article.objects.filter(pk__in=article_ids).pending_preannotation()
        outcome = preannotate(chunk)
        # Then whatever else waits: a dead worker's batch, an article an editor held for a moment,
        # the chunks of tasks still queued.
        outcome.add(preannotate(Article.objects.pending_preannotation()))
        # Last, the chunk's articles another process held: waiting for them now, when it has most
        # likely finished, costs no idle time.
        outcome.add(preannotate(chunk, skip_locked=False))
    return {"articles": outcome.articles, "spans": outcome.spans, "failed": len(outcome.failed)}


def queue_preannotation(article_ids: Iterable[int]) -> int:
    """Returns the number of tasks. Called in the importer's transaction, so tasks and articles
    become visible together."""
    chunks = [list(chunk) for chunk in batched(article_ids, QUEUE_CHUNK)]
    if chunks:
        requeue_abandoned()
    for chunk in chunks:
        preannotate_articles.enqueue(chunk)
    return len(chunks)


@transaction.atomic
def retry_preannotation(article_ids: Iterable[int]) -> list[int]:
    """Returns the ids of those that had failed."""
    ids = store.clear_preannotation_failures(article_ids)
    queue_preannotation(ids)
    return ids


@contextmanager
def _alive(task_id: str) -> Iterator[None]:
    """Holds a session advisory lock named after the task while it runs: PostgreSQL frees it when
    the worker's connection ends, so a free lock on a running task means its worker died."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [str(task_id)])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [str(task_id)])


def requeue_abandoned(but: str | None = None) -> int:
    """Puts back in the queue the pre-annotation tasks whose worker died; returns how many.

    A task requeued as its worker was starting it runs twice, harmlessly: the claims keep an
    article from being done twice.
    """
    requeued = 0
    # A session's advisory locks are its own to take again: leave out the task this session runs.
    running = DBTaskResult.objects.running().filter(task_path=preannotate_articles.module_path)
    if but is not None:
        running = running.exclude(pk=but)
    for task_id in running.values_list("id", flat=True):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT CASE WHEN pg_try_advisory_lock(hashtextextended(%s, 0))"
                " THEN pg_advisory_unlock(hashtextextended(%s, 0)) ELSE false END",
                [str(task_id)] * 2,
            )
            if cursor.fetchone()[0]:
                requeued += running.filter(pk=task_id).update(status=TaskResultStatus.READY)
    if requeued:
        log.warning("Requeued %s pre-annotation tasks whose worker died.", requeued)
    return requeued


@dataclass(frozen=True)
class Progress:
    waiting: int
    per_minute: int
    failed: list[Article]
    failed_count: int

    @property
    def minutes_left(self) -> int | None:
        if not self.waiting or not self.per_minute:
            return None
        return -(-self.waiting // self.per_minute)


def progress(failed_shown: int = 10) -> Progress:
    """What the article list shows: how many wait, how fast they go, which failed and why."""
    failed = Article.objects.failed_preannotation().only("pk", "title", "preannotation_error").order_by("-pk")
    failed_list = list(failed[:failed_shown])
    return Progress(
        waiting=Article.objects.pending_preannotation().count(),
        per_minute=Article.objects.preannotated_since(timezone.now() - RATE_WINDOW).count(),
        failed=failed_list,
        failed_count=len(failed_list) if len(failed_list) < failed_shown else failed.count(),
    )

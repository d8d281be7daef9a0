"""Training runs: one at a time, who started each, and their progress as the quality page polls it.

A run's row is written in autocommit, never inside a long transaction, so the page sees progress.
"""

from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import TrainingRun

# Heartbeats come seconds to a minute apart: a run silent this long died with its process.
STALE_AFTER = timedelta(minutes=15)


class TrainingRefused(Exception):
    """Why training cannot start; ``run`` is the training already queued or running, if that is why."""

    def __init__(self, message: str, run: TrainingRun | None = None) -> None:
        super().__init__(message)
        self.run = run


@dataclass
class Progress:
    phase: str = "queued"
    iteration: int = 0
    iterations: int = 0
    loss: float | None = None
    f: float | None = None
    # The held-out F1 of the model it started from.
    old_f: float | None = None
    # [iteration, loss, held-out F1] of each iteration done.
    curve: list[list[float]] = field(default_factory=list)


def describe(run: TrainingRun) -> str:
    who = run.created_by.get_username() if run.created_by else "the command line"
    when = timezone.localtime(run.created_at).strftime("%Y-%m-%d %H:%M")
    state = "is waiting for a worker" if run.status == TrainingRun.Status.QUEUED else "is still running"
    step = run.progress.get("iteration")
    at = f" (iteration {step} of {run.progress['iterations']})" if step else ""
    return f"A training started by {who} at {when} {state}{at}: wait for it to finish."


def live() -> TrainingRun | None:
    """The training queued or running now, if any (a dead one is marked failed first)."""
    TrainingRun.objects.filter(status=TrainingRun.Status.RUNNING, heartbeat_at__lt=timezone.now() - STALE_AFTER).update(
        status=TrainingRun.Status.FAILED,
        finished_at=timezone.now(),
        error=f"Interrupted: no sign of life for {STALE_AFTER.seconds // 60} minutes (its process died).",
    )
    return TrainingRun.objects.filter(status__in=TrainingRun.LIVE).select_related("created_by").first()


def begin(user: User | None, *, queued: bool) -> TrainingRun:
    """A new run, or TrainingRefused saying who started the one that is queued or running."""
    if (other := live()) is not None:
        raise TrainingRefused(describe(other), other)
    status = TrainingRun.Status.QUEUED if queued else TrainingRun.Status.RUNNING
    now = None if queued else timezone.now()
    try:
        # Two starts at once both found none live; PostgreSQL's unique index lets only one insert through.
        with transaction.atomic():
            return TrainingRun.objects.create(created_by=user, status=status, started_at=now, heartbeat_at=now)
    except IntegrityError:
        other = live()
        raise TrainingRefused(
            describe(other) if other else "Another training started at the same moment.", other
        ) from None


def start(run: TrainingRun) -> None:
    now = timezone.now()
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.RUNNING, started_at=now, heartbeat_at=now)


def report(run: TrainingRun, progress: Progress) -> None:
    run.progress = asdict(progress)
    TrainingRun.objects.filter(pk=run.pk).update(progress=run.progress, heartbeat_at=timezone.now())


def finish(run: TrainingRun, *, model_id: int | None = None, error: str = "") -> None:
    status = TrainingRun.Status.FAILED if error else TrainingRun.Status.FINISHED
    TrainingRun.objects.filter(pk=run.pk).update(
        status=status, finished_at=timezone.now(), error=error, model_id=model_id
    )


def latest() -> TrainingRun | None:
    """The last run, which a live one always is. Read-only: a dead run shows as stale until the next
    start marks it failed."""
    return TrainingRun.objects.select_related("created_by", "model").first()


def is_stale(run: TrainingRun) -> bool:
    return (
        run.status == TrainingRun.Status.RUNNING and (run.heartbeat_at or run.created_at) < timezone.now() - STALE_AFTER
    )

"""Training runs: one at a time, their progress seen live, labels with too few spans, the history on /quality/."""

import re
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from articles.models import Span, TrainedModel, TrainingRun
from articles.nlp import pipeline, training, training_runs
from tests.conftest import WAIT, in_thread
from tests.test_training import reviewed_corpus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def models_dir(settings, tmp_path):
    settings.MODELS_DIR = tmp_path / "models"
    return settings.MODELS_DIR


def test_a_training_while_another_runs_is_refused_with_who_started_it_and_when(
    make_article, editor, admin, as_admin, settings
):
    settings.TRAIN_MIN_ARTICLES = 10
    reviewed_corpus(make_article, editor, 12)
    running = training_runs.begin(admin, queued=False)
    when = timezone.localtime(running.created_at).strftime("%Y-%m-%d %H:%M")
    with pytest.raises(CommandError) as refused:
        call_command("train_model", "--min-articles", "10", stdout=StringIO())
    assert f"A training started by ada at {when} is still running" in str(refused.value)

    # The retrain button says so in the admin's language and queues nothing.
    page = as_admin.get("/quality/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    html = as_admin.post("/quality/train", {"csrfmiddlewaretoken": token}, follow=True).content.decode()
    assert "A training started by ada at " in html and "is still running; wait for it to finish." in html
    html = as_admin.post(
        "/quality/train", {"csrfmiddlewaretoken": token}, follow=True, HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Hay un entrenamiento iniciado por ada" in html
    assert not DBTaskResult.objects.exists()
    assert not TrainedModel.objects.exists()
    assert TrainingRun.objects.get() == running


def test_postgresql_refuses_a_second_live_training_even_if_python_misses_it(admin):
    training_runs.begin(admin, queued=True)
    with pytest.raises(IntegrityError, match="one_training_at_a_time"), transaction.atomic():
        TrainingRun.objects.create(status=TrainingRun.Status.RUNNING)


def test_a_training_whose_process_died_no_longer_blocks_the_next(make_article, editor, admin):
    dead = training_runs.begin(admin, queued=False)
    TrainingRun.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - training_runs.STALE_AFTER * 2)
    reviewed_corpus(make_article, editor, 12)
    outcome = training.train(min_articles=10, iterations=1)
    dead.refresh_from_db()
    assert dead.status == TrainingRun.Status.FAILED and "its process died" in dead.error
    assert TrainingRun.objects.filter(model=outcome.model, status=TrainingRun.Status.FINISHED).exists()


def test_the_queued_training_is_the_one_the_worker_runs_and_it_records_its_progress(
    make_article, editor, admin, as_admin, settings
):
    settings.TRAIN_MIN_ARTICLES = 10
    reviewed_corpus(make_article, editor, 12)
    page = as_admin.get("/quality/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    as_admin.post("/quality/train", {"csrfmiddlewaretoken": token})
    run = TrainingRun.objects.get()
    queued = DBTaskResult.objects.get()
    assert (run.status, run.created_by, queued.args_kwargs["kwargs"]["run_id"]) == ("queued", admin, run.pk)
    html = as_admin.get("/quality/training/").content.decode()
    assert "Training queued by ada at" in html and 'hx-trigger="every 2s"' in html

    training.train_model.call(**queued.args_kwargs["kwargs"])
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FINISHED and run.model == TrainedModel.objects.get()
    assert run.model.created_by == admin
    curve = run.progress["curve"]
    assert [step[0] for step in curve] == list(range(1, len(curve) + 1)) and len(curve) >= 1
    assert run.progress["old_f"] == run.model.scores["old"]["f"]
    html = as_admin.get("/quality/training/").content.decode()
    assert f"finished: {run.model}" in html and 'hx-trigger="every 15s"' in html
    assert len(re.findall(r'<tr data-iteration="\d+">', html)) == len(curve)


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_other_connections_while_training_runs(make_article, editor):
    reviewed_corpus(make_article, editor, 12)
    seen: list[tuple[str, int]] = []

    def look_from_another_connection(progress: training.Progress) -> None:
        if progress.phase != "training" or not progress.curve:
            return

        def read() -> None:
            run = TrainingRun.objects.get(status=TrainingRun.Status.RUNNING)
            seen.append((run.status, run.progress["iteration"]))

        thread = in_thread(read)
        thread.join(WAIT)
        assert not thread.is_alive()

    assert not connection.in_atomic_block
    training.train(min_articles=10, iterations=2, progress=look_from_another_connection)
    assert seen and seen[0] == ("running", 1)


def test_a_label_with_fewer_than_ten_reviewed_spans_is_trained_without_and_the_report_says_so(
    make_article, editor, as_admin
):
    reviewed_corpus(make_article, editor, 12)
    # Four of the twelve articles keep their EVENT span; the others lose it.
    Span.objects.filter(article_id__in=list(training.reviewed_corpus())[4:], label__name="EVENT").delete()
    out = StringIO()
    call_command("train_model", "--min-articles", "10", "--iterations", "1", "--force", stdout=out)
    trained = TrainedModel.objects.get()
    assert trained.skipped_labels == {"EVENT": 4}
    assert "EVENT" not in trained.learnt_from["per_label"]
    assert "Trained without EVENT: 4 reviewed spans, fewer than the 10 a label needs." in out.getvalue()
    assert "EVENT" not in pipeline.read(trained.path).get_pipe("ner").labels
    html = as_admin.get("/quality/").content.decode()
    assert re.search(r'data-skipped-label="EVENT">Trained without EVENT: 4 reviewed spans', html)


def test_the_quality_page_charts_f1_per_version_and_label_and_shows_what_each_learnt_from(
    make_article, editor, as_admin
):
    reviewed_corpus(make_article, editor, 12)
    first = training.train(min_articles=10, iterations=1, force=True).model
    second = training.train(min_articles=10, iterations=2, seed=1).model
    html = as_admin.get("/quality/").content.decode()
    chart = re.search(
        r"<figcaption>Held-out F1 of each retrained model, overall and per label</figcaption>(.*?)</svg>", html, re.S
    )
    assert chart, "no chart of F1 per version"
    for name in ("overall", "EVENT", "PER"):
        assert f">{name}</text>" in chart.group(1)
    row = re.search(rf'<tr data-model="{first}" data-active>(.*?)</tr>', html, re.S) or re.search(
        rf'<tr data-model="{first}">(.*?)</tr>', html, re.S
    )
    cells = re.findall(r'<td class="num">([^<]+)</td>', row.group(1))
    assert cells[:4] == ["10", "20", "2", "4"]  # learnt from 10 articles, 20 spans; scored on 2 with 4 spans
    active = TrainedModel.objects.get(active=True)
    assert f'<tr data-model="{active}" data-active>' in html
    assert str(second) in html
    # Every chart carries a visible title.
    assert html.count("<figcaption>") == html.count("<svg ") == 5


@pytest.mark.django_db(transaction=True)
def test_train_model_shows_a_progress_bar_with_loss_and_held_out_f1_on_a_terminal(make_article, editor, models_dir):
    import fcntl
    import os
    import pty
    import struct
    import termios

    from tests import processes
    from tests.test_preannotation import _read

    reviewed_corpus(make_article, editor, 12)
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    command = subprocess.Popen(  # noqa: S603 (our own command)
        [sys.executable, "manage.py", "train_model", "--min-articles", "10", "--iterations", "2"],
        cwd=processes.ROOT,
        env=processes.env(MODELS_DIR=str(models_dir)),
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    output = b""
    while chunk := _read(controller):
        output += chunk
    assert command.wait(timeout=120) == 0, output.decode()
    text = output.decode()
    # tqdm's bar over the iterations, with the last one's loss and held-out F1
    assert re.search(r"\| 2/2 \[\d\d:\d\d<\d\d:\d\d, [^,]+iteration, f1=[\d.]+%, loss=\d+\]", text), text
    assert "Retrained models (* active):" in text

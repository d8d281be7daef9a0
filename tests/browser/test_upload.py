"""An admin uploads articles in a real browser: drop or pick files, see the preview, confirm."""

import json

import pytest

from articles.ingest import uploads
from articles.ingest.records import ImportResult
from articles.models import Article, ImportBatch


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    # The check and the import run inside the request, as soon as they are queued.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


DROP = """([name, text]) => {
  const files = new DataTransfer();
  files.items.add(new File([text], name, {type: "application/x-ndjson"}));
  const zone = document.querySelector("[data-dropzone]");
  zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: files, bubbles: true, cancelable: true}));
  zone.dispatchEvent(new DragEvent("drop", {dataTransfer: files, bubbles: true, cancelable: true}));
}"""


def test_an_admin_drops_a_file_sees_the_preview_and_confirms(new_page, admin):
    page = new_page(admin, "/articles/")
    page.click("nav >> text=Upload")
    page.wait_for_url("**/upload/")
    records = [
        {"text": "Putin habló en Moscú.", "title": "Putin en Moscú", "spans": [{"start": 0, "end": 5, "label": "PER"}]},
        {"text": "Kim visitó Rusia el martes."},
    ]
    page.evaluate(DROP, ["noticias.jsonl", "".join(json.dumps(r) + "\n" for r in records)])
    assert page.locator("[data-file-list] li").all_text_contents() == ["noticias.jsonl (172 B)"]
    page.click("text=Check files")
    page.wait_for_selector("[data-batch-status=checked]")
    figures = {f.get_attribute("data-figure"): f.text_content() for f in page.locator("[data-figure]").all()}
    assert figures == {"articles": "2", "duplicates": "0", "spans": "1", "errors": "0"}
    assert page.locator(".sample-titles li").all_text_contents() == ["Putin en Moscú", "Kim visitó Rusia el martes."]
    assert not Article.objects.exists()
    page.click("[data-action=confirm-import]")
    page.wait_for_selector("[data-batch-status=done]")
    summary = page.locator("[data-summary]").text_content()
    assert summary == "2 articles created, 0 duplicates skipped, 1 span imported."
    assert Article.objects.count() == 2


def test_a_picked_file_with_a_bad_line_is_refused_with_the_line_named(new_page, admin, tmp_path):
    bad = tmp_path / "malo.jsonl"
    bad.write_text('{"text": "Bien."}\n{"text": 3}\n')
    page = new_page(admin, "/upload/")
    page.set_input_files("[data-file-input]", str(bad))
    page.click("text=Check files")
    page.wait_for_selector("[data-batch-status=failed]")
    problems = page.locator("[role=alert] li").all_text_contents()
    assert problems == ["malo.jsonl, line 2: `text` must be a string, not int"]
    assert not Article.objects.exists()


def test_the_progress_bar_follows_a_running_import_until_its_summary(new_page, admin, settings):
    batch = ImportBatch.objects.create(
        name="grande.jsonl", created_by=admin, status="importing", files=[{"name": "grande.jsonl", "size": 1000}]
    )
    uploads.folder(batch).mkdir(parents=True)
    uploads.write_progress(batch, 250, 1000, ImportResult(articles=40))
    page = new_page(admin, f"/upload/{batch.pk}/")
    assert page.locator("progress").get_attribute("value") == "250"
    uploads.write_progress(batch, 750, 1000, ImportResult(articles=120))
    page.wait_for_selector("progress[value='750']")
    assert "120 articles so far" in page.locator("[role=status]").text_content()
    ImportBatch.objects.filter(pk=batch.pk).update(status="done", created_count=160, duplicate_count=2)
    page.wait_for_selector("[data-batch-status=done]")
    summary = page.locator("[data-summary]").text_content()
    assert summary == "160 articles created, 2 duplicates skipped."

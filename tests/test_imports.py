"""Getting articles in: import_articles and the upload page, all or nothing, loud about bad input."""

import io
import json
import re
import stat
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client

from articles.ingest import uploads
from articles.ingest.records import Problem, normalise_with_offsets, title_of
from articles.models import Article, ImportBatch, Label, Span, SpanEvent
from articles.nlp.preannotation import preannotate
from tests.conftest import span_texts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = tmp_path / "uploads"
    # Background steps run as soon as they are queued, in the test's own process and transaction.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def jsonl(*records: dict) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_articles", *map(str, args), stdout=out)
    return out.getvalue()


def nothing_written() -> bool:
    return not (Article.objects.exists() or Span.objects.exists() or SpanEvent.objects.exists())


def refused(*args) -> str:
    with pytest.raises(CommandError) as failure:
        run(*args)
    assert nothing_written()
    return str(failure.value)


# What gets in ------------------------------------------------------------------------------------------


def test_it_imports_every_format_and_folders_and_zips(tmp_path):
    write(tmp_path, "one.txt", "Primera línea como título\nY el cuerpo del artículo.")
    csv = 'text,title,source,published_at,external_id\n"Texto CSV.",Del CMS,elpais.com,2024-03-01T10:00:00+01:00,A-1\n'
    write(tmp_path, "dump.csv", csv)
    prodigy = {"text": "Putin habló en Moscú.", "spans": [{"start": 0, "end": 5, "label": "PER"}]}
    write(tmp_path, "prodigy.jsonl", jsonl(prodigy))
    write(tmp_path, "list.json", json.dumps([{"text": "Un registro JSON.", "title": "JSON"}]))
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as archive:
        archive.writestr("dentro/doccano.jsonl", jsonl({"text": "Kim visitó Rusia.", "label": [[11, 16, "LOC"]]}))
    folder = tmp_path / "folder"
    folder.mkdir()
    write(folder, "nested.txt", "Un texto en una carpeta. Tiene dos frases.")
    files = [tmp_path / n for n in ["one.txt", "dump.csv", "prodigy.jsonl", "list.json", "more.zip"]]
    out = run(*files, folder, "--no-preannotate")
    assert out == "Imported: 6 articles created, 0 duplicates skipped, 2 spans imported.\n"
    titles = dict(Article.objects.values_list("body", "title"))
    assert titles["Primera línea como título\nY el cuerpo del artículo."] == "Primera línea como título"
    assert titles["Un texto en una carpeta. Tiene dos frases."] == "Un texto en una carpeta."
    assert titles["Un registro JSON."] == "JSON"
    csv_article = Article.objects.get(external_id="A-1")
    assert (csv_article.title, csv_article.source, csv_article.published_at.isoformat()) == (
        "Del CMS",
        "elpais.com",
        "2024-03-01T09:00:00+00:00",
    )
    assert [span_texts(a) for a in Article.objects.filter(spans__isnull=False)] == [
        [("Putin", "PER", "import")],
        [("Rusia", "LOC", "import")],
    ]
    batch = ImportBatch.objects.get()
    assert set(Article.objects.values_list("batch", flat=True)) == {batch.pk}
    assert (batch.status, batch.created_count, batch.duplicate_count, batch.span_count) == ("done", 6, 0, 2)


def test_reimporting_the_same_content_creates_nothing_and_says_so(tmp_path):
    path = write(tmp_path, "a.jsonl", jsonl({"text": "Uno."}, {"text": "Dos."}, {"text": "Uno."}))
    assert run(path, "--no-preannotate") == "Imported: 2 articles created, 1 duplicate skipped.\n"
    assert run(path, "--no-preannotate") == "Imported: 0 articles created, 3 duplicates skipped.\n"
    # CRLF and decomposed accents are the same content once normalised.
    write(tmp_path, "b.txt", "José\nDos.")
    write(tmp_path, "c.txt", "Jose\u0301\r\nDos.")
    out = run(tmp_path / "b.txt", tmp_path / "c.txt", "--no-preannotate")
    assert out == "Imported: 1 article created, 1 duplicate skipped.\n"
    assert Article.objects.count() == 3


def test_text_is_kept_as_given_except_newlines_and_nfc_with_offsets_mapped(tmp_path):
    # "José" with a combining accent, CRLF line ends, an emoji and a flag (two code points).
    text = "Jose\u0301 Pérez\r\nllegó a 🇪🇸 Madrid 🎉\rcon María."
    spans = [
        (text.index(word), text.index(word) + len(word), label)
        for word, label in [("Jose\u0301", "PER"), ("Pérez", "PER"), ("Madrid", "LOC"), ("María", "PER")]
    ]
    record = {"text": text, "spans": [{"start": s, "end": e, "label": label} for s, e, label in spans]}
    path = write(tmp_path, "a.jsonl", jsonl(record))
    run(path, "--no-preannotate")
    article = Article.objects.get()
    assert article.body == "José Pérez\nllegó a 🇪🇸 Madrid 🎉\ncon María."
    assert span_texts(article) == [
        ("José", "PER", "import"),
        ("Pérez", "PER", "import"),
        ("Madrid", "LOC", "import"),
        ("María", "PER", "import"),
    ]


def test_a_span_edge_inside_a_joined_character_is_refused():
    with pytest.raises(Exception, match="offset 4 falls inside a character that normalisation joins"):
        normalise_with_offsets("Jose\u0301 y", [0, 4])


def test_titles_come_from_the_record_else_the_first_line_else_the_first_sentence():
    assert title_of("Titular\nCuerpo.") == "Titular"
    assert title_of("Primera frase. Segunda frase.") == "Primera frase."
    long = "palabra " * 40
    assert len(title_of(long)) == 120 and title_of(long).endswith("…")


def test_imported_spans_carry_their_import_and_are_never_replaced_by_the_model(tmp_path, as_admin):
    text = "El presidente Vladimir Putin recibió a Kim Jong Un en Moscú el miércoles."
    path = write(tmp_path, "a.jsonl", jsonl({"text": text, "spans": [{"start": 14, "end": 28, "label": "MISC"}]}))
    run(path, "--no-preannotate")
    article = Article.objects.get()
    # An imported span's creation is on its own row and its article's batch, not a history row each.
    span = article.spans.get()
    assert (span.origin, span.created_by, span.model_name) == ("import", None, "")
    assert span.created_at == article.created_at and not SpanEvent.objects.exists()
    history = as_admin.get(f"/articles/{article.pk}/history/").content.decode()
    assert "data-imported" in history and str(path) in history
    preannotate(Article.objects.filter(pk=article.pk))
    assert span_texts(article) == [
        ("Vladimir Putin", "MISC", "import"),
        ("Kim Jong Un", "PER", "model"),
        ("Moscú", "LOC", "model"),
    ]


def test_unknown_labels_are_refused_unless_asked_to_create_them(tmp_path):
    record = {"text": "Apple compró Beats.", "spans": [{"start": 0, "end": 5, "label": "COMPANY"}]}
    path = write(tmp_path, "a.jsonl", jsonl(record))
    message = refused(path, "--no-preannotate")
    assert f"{path}, line 1: unknown label COMPANY (known: LOC, MISC, ORG, PER)" in message
    run(path, "--no-preannotate", "--create-labels")
    assert span_texts(Article.objects.get()) == [("Apple", "COMPANY", "import")]
    assert Label.objects.filter(name="COMPANY").exists()


def test_import_queues_pre_annotation_unless_told_not_to(tmp_path, settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    from django.tasks import default_task_backend

    default_task_backend.clear()
    out = run(write(tmp_path, "a.txt", "Putin visitó Moscú."))
    assert out.endswith("Pre-annotation queued (run a worker).\n")
    indexing, queued = default_task_backend.results
    assert indexing.task.name == "index_articles"
    assert queued.task.name == "preannotate_articles" and queued.args == [[Article.objects.get().pk]]
    default_task_backend.clear()
    run(write(tmp_path, "b.txt", "Kim visitó Rusia."), "--no-preannotate")
    assert [r.task.name for r in default_task_backend.results] == ["index_articles"]
    assert Article.objects.count() == 2


def test_the_command_shows_a_progress_bar_on_a_terminal(tmp_path, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    run(write(tmp_path, "a.jsonl", jsonl({"text": "Uno."}, {"text": "Dos."})), "--no-preannotate")
    assert terminal.getvalue() == f"\r[{'#' * 30}] 100%  2 articles\n"


# Bad input: each ends with a clear message and no rows written -------------------------------------------


def test_it_refuses_text_that_is_not_utf8_and_names_the_encoding(tmp_path):
    path = write(tmp_path, "latin.txt", "El niño comió en la calle Núñez, según él, años atrás.".encode("latin-1"))
    message = refused(path)
    assert f"{path}: not UTF-8" in message and "detected encoding:" in message
    assert "pick the file's encoding" in message
    run(path, "--encoding", "latin-1", "--no-preannotate")
    assert Article.objects.get().body == "El niño comió en la calle Núñez, según él, años atrás."


def test_it_accepts_utf8_with_a_bom(tmp_path):
    run(write(tmp_path, "bom.csv", "\ufefftext,title\nCuerpo.,Título\n"), "--no-preannotate")
    assert Article.objects.get().title == "Título"


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data, not text"),
        ("empty.txt", b"", "the file is empty"),
        ("blank.jsonl", b"\n\n", "the file is empty"),
        ("notext.csv", b"title,source\nHola,web\n", "no `text` column in the header row (columns: title, source)"),
        ("utf16.txt", "hola".encode("utf-16"), "the file is UTF-16, not UTF-8"),
    ],
)
def test_it_refuses_a_bad_file(tmp_path, name, content, reason):
    path = write(tmp_path, name, content)
    assert f"{path}: {reason}" in refused(path)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not JSON (Expecting property name enclosed in double quotes at column 2)"),
        ('{"title": "sin texto"}', "no `text`"),
        (
            '{"text": "Hola", "spans": [{"start": 2, "end": 9, "label": "PER"}]}',
            "span 2–9 (PER) ends past the text (4 characters)",
        ),
        (
            '{"text": "Hola Ana", "spans": [{"start": 0, "end": 4, "label": "PER"}, '
            '{"start": 2, "end": 8, "label": "PER"}]}',
            "span 0–4 (PER) overlaps span 2–8 (PER)",
        ),
        (
            '{"text": "Hola", "spans": [{"start": 3, "end": 3, "label": "PER"}]}',
            "span 3–3 (PER): start must be at least 0 and before end",
        ),
        ('{"text": "Hola", "label": [[3, 1, "PER"]]}', "span 3–1 (PER): start must be at least 0 and before end"),
        ('{"text": "Hola", "label": [[0, 4, "MY LABEL"]]}', "span 0–4: the label 'MY LABEL' is not one word"),
    ],
)
def test_one_bad_jsonl_line_means_nothing_is_written(tmp_path, line, reason):
    good = jsonl({"text": "Un artículo correcto."}) * 3
    path = write(tmp_path, "a.jsonl", good + line + "\n")
    other = write(tmp_path, "b.txt", "Otro artículo correcto.")
    assert f"{path}, line 4: {reason}" in refused(other, path)


def test_every_bad_record_among_good_ones_is_named_in_order_as_if_checked_alone(tmp_path):
    """Spans are checked a chunk at a time; each refusal still names its line, in the file's order,
    in the words of the record's own check, whatever else the chunk holds."""
    good = {"text": "Hola Ana y Eva.", "spans": [{"start": 5, "end": 8, "label": " PER "}]}
    bad = [
        '{"text": "Hola Ana", "spans": [{"start": 5, "end": 8, "label": "PER"}, '
        '{"start": 0, "end": 6, "label": "LOC"}]}',
        '{"text": "Hola", "spans": [{"start": 0, "end": 99999999999999999999999, "label": "PER"}]}',
        '{"text": "Hola", "label": [[0, 4, ["PER"]]]}',
        '{"text": "Hola", "label": [[0, 4, 7]]}',
        '{"text": "Hola", "spans": [{"start": -1, "end": 2, "label": "PER"}]}',
    ]
    lines = [json.dumps({**good, "text": f"{good['text']} {n}"}, ensure_ascii=False) for n in range(7)]
    for at, line in zip((1, 3, 4, 5, 6), bad, strict=True):
        lines[at] = line
    path = write(tmp_path, "mixed.jsonl", "\n".join(lines) + "\n")
    problems = [line for line in refused(path).splitlines() if line.startswith(str(path))]
    assert problems == [
        f"{path}, line 2: span 0–6 (LOC) overlaps span 5–8 (PER)",
        f"{path}, line 4: span 0–99999999999999999999999 (PER) ends past the text (4 characters)",
        f"{path}, line 5: span 0–4 has no label",
        f"{path}, line 6: span 0–4 has no label",
        f"{path}, line 7: span -1–2 (PER): start must be at least 0 and before end",
    ]
    assert not Article.objects.exists()
    # The good ones alone go in, their labels stripped.
    good_only = write(tmp_path, "good.jsonl", "\n".join(lines[i] for i in (0, 2)) + "\n")
    call_command("import_articles", str(good_only), "--no-preannotate", stdout=io.StringIO())
    assert [(s.text, s.label.name) for s in Span.objects.select_related("label", "article")] == [("Ana", "PER")] * 2


def test_a_bad_csv_row_is_named(tmp_path):
    path = write(tmp_path, "a.csv", 'text,published_at\nBien.,2024-01-01\n"",\nOtro.,ayer\n')
    message = refused(path)
    assert f"{path}, row 3: the text is empty" in message
    assert f"{path}, row 4: `published_at` is not an ISO 8601 date: 'ayer'" in message


def zipped(tmp_path, *entries, name="a.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry, content in entries:
            archive.writestr(entry, content)
    return path


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("../x.txt", "refused: a path leading out of the archive (..)"),
        ("/etc/x.txt", "refused: an absolute path"),
        ("inner.zip", "refused: a zip inside a zip"),
    ],
)
def test_it_refuses_an_unsafe_zip(tmp_path, entry, reason):
    path = zipped(tmp_path, ("ok.txt", "Un artículo."), (entry, "Hola."))
    assert f"{path}/{entry}: {reason}" in refused(path)


def test_it_refuses_a_zip_with_a_symlink_or_a_renamed_zip_inside(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("link.txt")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    assert f"{path}/link.txt: refused: a symbolic link" in refused(path)
    inner = zipped(tmp_path, ("a.txt", "Hola."), name="inner.zip").read_bytes()
    path = zipped(tmp_path, ("disguised.txt", inner), name="outer.zip")
    assert f"{path}/disguised.txt: a zip archive, not .txt text" in refused(path)


def test_it_refuses_a_zip_bomb(tmp_path, settings):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 100_000
    path = zipped(tmp_path, ("bomb.txt", "a" * 1_000_000))
    assert path.stat().st_size < 5_000
    assert f"{path}: refused: it expands to 1,000,000 bytes, over the limit of 100,000 bytes" in refused(path)


def test_a_zip_whose_directory_lies_about_sizes_is_stopped_at_the_limit(tmp_path, settings):
    settings.IMPORT_MAX_UNZIPPED_BYTES = 100_000
    path = zipped(tmp_path, ("a.txt", "b" * 50_000), ("b.txt", "c" * 80_000))
    # Rewrite the declared sizes in the central directory to claim tiny files.
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    central = data.index(b"PK\x01\x02")
    for _ in infos:
        data[central + 24 : central + 28] = (10).to_bytes(4, "little")
        name_length = int.from_bytes(data[central + 28 : central + 30], "little")
        extra = int.from_bytes(data[central + 30 : central + 32], "little")
        comment = int.from_bytes(data[central + 32 : central + 34], "little")
        central += 46 + name_length + extra + comment
    path.write_bytes(bytes(data))
    # zipfile reads no more than an entry claims, so the lie shows as a damaged entry.
    assert f"{path}/a.txt: damaged in its zip archive (Bad CRC-32 for file 'a.txt')" in refused(path)


def test_problems_are_plain_sentences():
    assert str(Problem("a.csv", "row 3", "the text is empty")) == "a.csv, row 3: the text is empty"
    assert str(Problem("a.txt", "", "the file is empty")) == "a.txt: the file is empty"


# The upload page ----------------------------------------------------------------------------------------


def upload_file(name: str, content: str | bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode() if isinstance(content, str) else content)


def csrf(client) -> str:
    client.get("/upload/")
    return client.cookies["csrftoken"].value


def post_upload(client, *files, **fields):
    return client.post("/upload/", {"files": list(files), "csrfmiddlewaretoken": csrf(client), **fields})


def test_the_upload_page_is_for_admins_only(as_admin, as_editor, as_outsider, anonymous, admin):
    assert as_editor.get("/upload/").status_code == 403
    assert as_outsider.get("/upload/").status_code == 403
    assert anonymous.get("/upload/").url.startswith("/accounts/login/?next=/upload/")
    assert as_editor.post("/upload/").status_code == 403
    page = as_admin.get("/upload/").content.decode()
    assert 'type="file" name="files" multiple' in page and "data-dropzone" in page
    assert 'href="/upload/"' in page
    assert 'href="/upload/"' not in as_editor.get("/articles/").content.decode()
    unchecked = Client()  # no CSRF check (it refuses a PUT without a token first): the method check answers
    unchecked.force_login(admin)
    assert unchecked.put("/upload/").status_code == 405


def test_an_upload_is_previewed_then_imported_on_confirmation(as_admin, admin, settings):
    settings.IMPORT_UPLOAD_DIR.mkdir(parents=True)
    make = jsonl(
        {"text": "Putin habló en Moscú.", "title": "Putin en Moscú", "spans": [{"start": 0, "end": 5, "label": "PER"}]},
        {"text": "Kim visitó Rusia.", "label": [[11, 16, "LOC"]]},
        {"text": "Kim visitó Rusia."},
    )
    response = post_upload(
        as_admin, upload_file("a.jsonl", make), upload_file("b.txt", "Una nota breve.\nCon cuerpo."), preannotate="on"
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302 and response.url == f"/upload/{batch.pk}/"
    assert nothing_written() and batch.status == "checked"
    page = as_admin.get(response.url).content.decode()
    figures = dict(re.findall(r'data-figure="(\w+)">(\d+)<', page))
    assert figures == {"articles": "3", "duplicates": "1", "spans": "2", "errors": "0"}
    titles = re.findall(r"<li>(.*?)</li>", page.split("sample-titles")[1])[:3]
    assert titles == ["Putin en Moscú", "Kim visitó Rusia.", "Una nota breve."]
    # The files wait in the private folder, nowhere a browser can reach.
    stored = sorted(p.name for p in (settings.IMPORT_UPLOAD_DIR / str(batch.pk)).iterdir())
    assert stored == ["000.jsonl", "001.txt"]
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    response = as_admin.post(f"/upload/{batch.pk}/confirm/", {"csrfmiddlewaretoken": csrf(as_admin)})
    assert response.status_code == 302
    batch.refresh_from_db()
    assert (batch.status, batch.created_count, batch.duplicate_count, batch.span_count) == ("done", 3, 1, 2)
    summary = as_admin.get(response.url).content.decode()
    assert "3 articles created, 1 duplicate skipped, 2 spans imported." in summary
    assert Article.objects.filter(batch=batch).count() == 3
    # Who imported the spans, on each of them.
    assert list(Span.objects.values_list("origin", "created_by", "updated_by")) == [("import", admin.pk, None)] * 2
    assert not (settings.IMPORT_UPLOAD_DIR / str(batch.pk)).exists()
    # Uploading the same again: everything is a duplicate, and the preview says so.
    post_upload(as_admin, upload_file("a.jsonl", make))
    again = ImportBatch.objects.latest("pk")
    assert again.preview["articles"] == 0 and again.preview["duplicates"] == 3


def test_the_progress_fragment_polls_while_a_step_runs(as_admin, admin, settings):
    batch = ImportBatch.objects.create(
        name="big.jsonl", created_by=admin, status="importing", files=[{"name": "big.jsonl", "size": 1000}]
    )

    from articles.ingest.records import ImportResult

    (settings.IMPORT_UPLOAD_DIR / str(batch.pk)).mkdir(parents=True)
    uploads.write_progress(batch, 400, 1000, ImportResult(articles=12))
    fragment = as_admin.get(f"/upload/{batch.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert fragment.lstrip().startswith('<section id="batch-status"')
    assert "<html" not in fragment
    assert 'hx-trigger="load delay:700ms"' in fragment
    assert '<progress max="1000" value="400"' in fragment and "12 articles so far" in fragment
    batch.status, batch.created_count = "done", 12
    batch.save()
    fragment = as_admin.get(f"/upload/{batch.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert "hx-trigger" not in fragment and "12 articles created" in fragment


def test_a_bad_upload_shows_every_problem_and_writes_nothing(as_admin, admin):
    content = jsonl({"text": "Bien."}) + "{roto\n" + jsonl({"title": "sin texto"})
    post_upload(as_admin, upload_file("a.jsonl", content), upload_file("b.csv", "title\nHola\n"))
    batch = ImportBatch.objects.get()
    assert batch.status == "failed" and nothing_written()
    page = as_admin.get(f"/upload/{batch.pk}/").content.decode()
    assert 'role="alert"' in page
    assert "a.jsonl, line 2: not JSON" in page and "a.jsonl, line 3: no `text`" in page
    assert "b.csv: no `text` column in the header row (columns: title)" in page
    # Confirming a refused upload does nothing.
    as_admin.post(f"/upload/{batch.pk}/confirm/", {"csrfmiddlewaretoken": csrf(as_admin)})
    assert nothing_written()


def test_an_upload_in_another_encoding_is_refused_unless_picked_on_the_form(as_admin, admin):
    latin = "Año nuevo en Núñez: la señora cumplió años.".encode("latin-1")
    post_upload(as_admin, upload_file("a.txt", latin))
    assert "a.txt: not UTF-8" in ImportBatch.objects.get().errors[0]
    post_upload(as_admin, upload_file("a.txt", latin), encoding="latin-1")
    assert ImportBatch.objects.latest("pk").preview["sample_titles"] == ["Año nuevo en Núñez: la señora cumplió años."]


def test_an_upload_over_the_size_limit_is_refused_with_413_naming_it(as_admin, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 10_000
    response = post_upload(as_admin, upload_file("big.txt", "x" * 20_000))
    assert response.status_code == 413
    assert "the limit is 9.8\xa0KB (IMPORT_MAX_UPLOAD_BYTES)" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_too_many_files_or_unsupported_ones_are_refused(as_admin, settings):
    settings.IMPORT_MAX_FILES = 2
    response = post_upload(as_admin, *(upload_file(f"{i}.txt", f"Nota {i}.") for i in range(3)))
    assert response.status_code == 400
    assert "3 files in one upload; at most 2 are allowed." in response.content.decode()
    response = post_upload(as_admin, upload_file("a.exe", b"MZ"))
    assert response.status_code == 400 and "Unsupported format: a.exe." in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_upload_needs_its_csrf_token(admin):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post("/upload/", {"files": [upload_file("a.txt", "Hola.")]}).status_code == 403
    assert not ImportBatch.objects.exists()


def test_html_keeps_the_main_text_and_drops_scripts_and_styles(as_admin, admin, make_article):
    html = """<html><head><title>Visita oficial</title><style>p { color: red }</style>
    <script>alert("head")</script></head><body><nav>Inicio · Portada</nav><article>
    <h1>Visita oficial</h1><p>El presidente llegó a Madrid el lunes por la mañana para una reunión larga.</p>
    <script>document.write("<b>inyectado</b>")</script>
    <p>La reunión con los ministros duró tres horas y terminó sin acuerdo sobre el presupuesto.</p>
    </article></body></html>"""
    post_upload(as_admin, upload_file("nota.html", html))
    batch = ImportBatch.objects.get()
    assert batch.status == "checked", batch.errors
    as_admin.post(f"/upload/{batch.pk}/confirm/", {"csrfmiddlewaretoken": csrf(as_admin)})
    article = Article.objects.get()
    assert article.title == "Visita oficial"
    assert "El presidente llegó a Madrid" in article.body and "terminó sin acuerdo" in article.body
    for dropped in ("alert", "document.write", "color: red", "<"):
        assert dropped not in article.body


def test_script_tags_in_text_are_imported_as_text_and_never_served_as_html(tmp_path, as_admin):
    text = 'Antes <script>alert("x")</script> después.'
    run(write(tmp_path, "a.txt", text), "--no-preannotate")
    article = Article.objects.get()
    assert article.body == text
    page = as_admin.get(f"/articles/{article.pk}/").content.decode()
    assert "<script>alert" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_a_long_csv_cell_is_read_and_one_past_the_limit_is_named(tmp_path, monkeypatch):
    long = "palabra " * 40_000
    run(write(tmp_path, "long.csv", f'text\n"{long}"\n'), "--no-preannotate")
    assert Article.objects.get().body_length == len(long)
    Article.objects.all().delete()
    monkeypatch.setattr("articles.ingest.formats.CSV_FIELD_LIMIT", 1000)
    path = write(tmp_path, "broken.csv", f'text\n"Bien."\n"{"x" * 2000}"\n')
    assert f"{path}: row 3: not valid CSV (field larger than field limit (1000))" in refused(path)


def test_uploaded_files_live_outside_every_served_folder(settings):
    from annotator import settings as real

    served = [real.STATIC_ROOT, *real.STATICFILES_DIRS]
    assert not any(real.IMPORT_UPLOAD_DIR.is_relative_to(folder) for folder in served)
    assert not any(folder.is_relative_to(real.IMPORT_UPLOAD_DIR) for folder in served)


def test_a_step_that_crashes_marks_its_batch_refused(admin, monkeypatch, settings):
    batch = ImportBatch.objects.create(name="a.txt", created_by=admin, status="checking", files=[])

    def crash(batch):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(uploads, "check", crash)
    with pytest.raises(RuntimeError):
        uploads.check_upload.call(batch.pk)
    batch.refresh_from_db()
    assert batch.status == "failed" and "unexpected error; nothing was imported" in batch.errors[0]


def test_an_oversized_upload_is_refused_before_the_csrf_check_reads_it(admin, settings):
    """A 413 names the limit even for a request the CSRF check would refuse: its body is never read."""
    settings.IMPORT_MAX_UPLOAD_BYTES = 10_000
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    response = client.post("/upload/", {"files": upload_file("big.txt", "x" * 20_000)})  # no token
    assert response.status_code == 413
    assert "the limit is 9.8\xa0KB" in response.content.decode()
    assert not list(settings.IMPORT_UPLOAD_DIR.glob("incoming/*"))

"""Exports: CSV exactly as the CONTRACT says, JSONL and DocBin, filters, the page, and the command."""

import codecs
import csv
import datetime as dt
import io
import json
import os
import re
import stat
import subprocess
import sys

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Prefetch
from django.utils import timezone

from articles.editing import verbs
from articles.export import documents, reading, rows
from articles.ingest.records import normalise
from articles.models import Article, Export, ImportBatch, Span
from articles.site import accounts

pytestmark = pytest.mark.django_db

HEADER = (
    "article_id,article_title,article_source,span_id,start,end,text,label,origin,article_status,"
    "created_by,updated_by,updated_at"
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

# Texts as they arrive from newsrooms: accents, emoji (with joiners, flags, skin tones, astral
# characters), Windows line breaks turned into \n by the importer, quotes and commas that CSV must
# quote, and cells a spreadsheet would run as formulas.
WIRE = normalise(
    "Bogotá (EFE).- La ministra María Núñez 👩🏽‍⚖️ dijo que «el acuerdo sigue vigente».\r\n"
    "\r\n"
    'El "Chapo", según fuentes, huyó a Culiacán 🇲🇽 con 𝒵𝑒𝓉𝒶 y +34 600 000 000.\r\n'
    "=SUMA(A1:A9) apareció en la hoja de @ElTiempo; -Fin- dijo Ñuñoa.\r\n"
)
TWEET = "@Petro: 😀😀 Medellín y São Paulo\ttabuladas, ¿verdad? ¡Sí! 🧑‍🤝‍🧑"


def spans_at(body: str, *phrases: tuple[str, str]) -> list[tuple[int, int, str]]:
    return [(body.index(text), body.index(text) + len(text), label) for text, label in phrases]


@pytest.fixture
def corpus(make_article, editor, admin) -> list[Article]:
    """Articles in every status, with model, editor and imported spans, and a user named like a formula."""
    batch = ImportBatch.objects.create(name="lunes.zip")
    wire = make_article(
        WIRE,
        spans=spans_at(
            WIRE,
            ("Bogotá", "LOC"),
            ("María Núñez 👩🏽‍⚖️", "PER"),
            ('"Chapo", según', "PER"),
            ("Culiacán 🇲🇽", "LOC"),
            ("𝒵𝑒𝓉𝒶", "ORG"),
            ("+34 600 000 000", "MISC"),
            ("=SUMA(A1:A9)", "MISC"),
            ("@ElTiempo", "ORG"),
            ("-Fin-", "MISC"),
            ("Ñuñoa", "LOC"),
        ),
        title='=HYPERLINK("http://evil")',
        source="@agencia",
        batch=batch,
    )
    tweet = make_article(TWEET, spans=spans_at(TWEET, ("@Petro", "PER"), ("Medellín", "LOC")), source="-x-")
    # A body stored with its CRLF (written before the importer normalised line breaks): a span across it.
    crlf = make_article("Primera línea de Quito\r\nsegunda línea de Lima.\r\n", title="CRLF")
    empty = make_article("Un artículo sin entidades, todavía.", title="Vacío")
    mallory = accounts.set_user("-mallory", accounts.EDITOR, "x", validate=False)[0]
    verbs.create_span(crlf, 17, 31, "LOC", mallory)  # "Quito\r\nsegunda"
    verbs.create_span(tweet, TWEET.index("São Paulo"), TWEET.index("São Paulo") + 9, "LOC", editor)
    verbs.relabel_span(Span.objects.get(article=wire, start=WIRE.index("𝒵")), "MISC", editor)
    verbs.mark_reviewed(wire, admin)
    return [wire, tweet, crlf, empty]


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def download(client, path: str) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_csv_has_the_contract_columns_and_one_exact_row_per_span(as_admin, corpus):
    content = download(as_admin, "/export/spans.csv")
    rows = read_csv(content)
    assert ",".join(rows[0]) == HEADER
    spans = Span.objects.select_related("article", "label", "created_by", "updated_by").order_by("article", "start")
    spans = list(spans)
    assert len(rows) - 1 == len(spans) == 14
    for row, span in zip(rows[1:], spans, strict=True):
        record = dict(zip(rows[0], row, strict=True))
        text = span.article.body[span.start : span.end]
        assert record["text"] == ("'" + text if text.startswith(FORMULA_START) else text)
        assert (int(record["article_id"]), int(record["span_id"]), int(record["start"]), int(record["end"])) == (
            span.article_id,
            span.pk,
            span.start,
            span.end,
        )
        assert (record["label"], record["origin"], record["article_status"]) == (
            span.label.name,
            span.origin,
            span.article.status,
        )
        assert record["created_by"] == (span.created_by.username if span.created_by else "").replace("-", "'-", 1)
        assert record["updated_by"] == (span.updated_by.username if span.updated_by else "").replace("-", "'-", 1)
        assert dt.datetime.fromisoformat(record["updated_at"]) == span.updated_at
    by_text = {row[6]: row for row in rows[1:]}
    # Formula neutralisation, on every text cell that needs it and on no other.
    assert {"'=SUMA(A1:A9)", "'+34 600 000 000", "'@ElTiempo", "'-Fin-", "'@Petro"} <= set(by_text)
    assert by_text["'=SUMA(A1:A9)"][1:3] == ['\'=HYPERLINK("http://evil")', "'@agencia"]
    assert by_text["Quito\r\nsegunda"][10] == "'-mallory"
    assert by_text["María Núñez 👩🏽‍⚖️"][0] == str(corpus[0].pk)
    # RFC 4180: the cells with a quote, a comma or a line break are quoted, quotes doubled.
    assert '"""Chapo"", según"' in content.decode()


def test_every_text_cell_equals_the_body_slice_on_a_real_article_annotated_by_the_model(as_admin, corpus):
    call_command("load_seeds", stdout=io.StringIO())
    call_command("preannotate", stdout=io.StringIO())
    rows = read_csv(download(as_admin, "/export/spans.csv"))[1:]
    bodies = dict(Article.objects.values_list("id", "body"))
    assert len(rows) == Span.objects.count() > 14 + 20
    for row in rows:
        text = bodies[int(row[0])][int(row[4]) : int(row[5])]
        assert row[6] == ("'" + text if text.startswith(FORMULA_START) else text)


def test_excel_csv_has_a_byte_order_mark_and_crlf_line_ends(as_admin, corpus):
    plain = download(as_admin, "/export/spans.csv")
    excel = download(as_admin, "/export/spans.csv?excel=1")
    assert excel.startswith(codecs.BOM_UTF8 + HEADER.encode() + b"\r\n")
    assert read_csv(excel[3:]) == read_csv(plain)
    records = 1 + Span.objects.count()
    assert excel.count(b"\r\n") == plain.count(b"\r\n") + records
    assert excel[3:].replace(b"\r\n", b"\n") == plain.replace(b"\r\n", b"\n")


def span_ids(content: bytes) -> set[int]:
    return {int(row[3]) for row in read_csv(content)[1:]}


LOC_MISC = ["LOC", "MISC"]
NOT_YET = ["new", "pre_annotated"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=reviewed", lambda: Span.objects.filter(article__status="reviewed")),
        ("status=reviewed&status=in_review", lambda: Span.objects.exclude(article__status__in=NOT_YET)),
        ("label=LOC", lambda: Span.objects.filter(label__name="LOC")),
        ("label=LOC&label=MISC&origin=model", lambda: Span.objects.filter(origin="model", label__name__in=LOC_MISC)),
        ("origin=editor", lambda: Span.objects.filter(origin="editor")),
        ("batch={batch}", lambda: Span.objects.filter(article__batch__name="lunes.zip")),
        ("reviewed_from={today}&reviewed_to={today}", lambda: Span.objects.exclude(article__reviewed_at=None)),
        ("reviewed_to={yesterday}", lambda: Span.objects.none()),
    ],
)
def test_filters_export_exactly_the_spans_they_match(as_admin, corpus, query, expected):
    today = timezone.now().date()
    query = query.format(batch=ImportBatch.objects.get().pk, today=today, yesterday=today - dt.timedelta(days=1))
    content = download(as_admin, f"/export/spans.csv?{query}")
    assert span_ids(content) == set(expected().values_list("pk", flat=True))
    assert len(read_csv(content)) - 1 == expected().count()


def test_a_filter_matching_nothing_gives_the_header_alone(as_admin, corpus):
    assert download(as_admin, "/export/spans.csv?status=new&label=ORG") == HEADER.encode() + b"\n"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/export/spans.csv?status=done", "status: unknown status “done”; allowed: new, pre_annotated, in_review, "),
        ("/export/spans.csv?label=GPE", "label: unknown label “GPE”; allowed: PER, LOC, ORG, MISC"),
        ("/export/spans.jsonl?origin=robot", "origin: unknown origin “robot”; allowed: model, editor, import"),
        ("/export/spans.csv?batch=999", "batch: no upload batch with id “999”"),
        ("/export/spans.csv?reviewed_from=yesterday", "reviewed_from: Enter a valid date."),
        ("/export/spans.csv?reviewed_from=2026-02-01&reviewed_to=2026-01-01", "reviewed_to: ends (2026-01-01) before"),
        (
            "/export/spans.csv?stauts=reviewed",
            "unknown filter “stauts”; allowed: status, label, origin, batch, reviewed_from, reviewed_to",
        ),
        ("/export/spans.xlsx", "Unknown export format “xlsx”; allowed: csv, jsonl, spacy, conll, doccano."),
        ("/export/spans.csv?doccano=yes", "Bad doccano value “yes”; allowed: 1 (CoNLL as doccano reads it) or 0."),
        ("/export/spans.jsonl?doccano=1", "The doccano flavour applies to CoNLL only"),
        ("/export/spans.csv?excel=yes", "Bad excel value “yes”; allowed: 1 (CSV for Excel) or 0."),
        ("/export/spans.jsonl?excel=1", "The Excel option applies to CSV only."),
    ],
)
def test_bad_filters_and_formats_get_400_with_the_allowed_values_and_export_nothing(as_admin, corpus, path, message):
    response = as_admin.get(path)
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert message in response.content.decode()
    assert not Export.objects.exists()


def test_only_admins_export(anonymous, as_editor, as_outsider, corpus):
    for path in ["/export/", "/export/spans.csv", "/export/spans.jsonl", "/export/spans.spacy"]:
        assert anonymous.get(path).url.startswith("/accounts/login/?next=")
        assert as_editor.get(path).status_code == 403
        assert as_outsider.get(path).status_code == 403
    assert not Export.objects.exists()


def test_exports_answer_only_get(admin):
    from django.test import Client

    client = Client()
    client.force_login(admin)
    assert client.post("/export/spans.csv").status_code == 405
    assert client.post("/export/").status_code == 405


def test_the_nav_links_to_the_export_page_for_admins_only(as_admin, as_editor):
    assert '<a href="/export/">Export</a>' in as_admin.get("/articles/").content.decode()
    assert '<a href="/export/">' not in as_editor.get("/articles/").content.decode()


def counted(html: str) -> str:
    """The count's text, as a reader sees it."""
    count = re.search(r'<div id="export-count"[^>]*>(.*?)</div>', html, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", "", count).split())


def test_the_export_page_counts_what_the_filters_export_and_lists_the_last_exports(
    as_admin, corpus, django_assert_num_queries
):
    download(as_admin, "/export/spans.csv?status=reviewed")
    download(as_admin, "/export/spans.jsonl?label=LOC")
    call_command("export_spans", "--format", "jsonl", "-o", "/dev/null", stderr=io.StringIO())
    # bounds, session, user, labels and batches (form), two counts, the last exports: the same for any number
    with django_assert_num_queries(8):
        html = as_admin.get("/export/").content.decode()
    assert counted(html) == "4 articles and 14 spans will be exported."
    assert 'name="status" value="reviewed"' in html and 'name="label" value="MISC"' in html
    rows = html.split('<tr data-export-id="')[1:]
    assert len(rows) == 3
    assert "<td>command line</td>" in rows[0] and "<td>JSONL</td>" in rows[0]
    assert "<td>ada</td>" in rows[1] and "<code>label=LOC</code>" in rows[1]
    assert '<td class="num">1</td><td class="num">10</td>' in rows[2]  # the reviewed article and its spans


def test_the_export_page_updates_its_count_as_a_fragment(as_admin, corpus):
    response = as_admin.get("/export/?label=LOC&origin=model", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="export-count"')
    assert "<html" not in html
    locs = Span.objects.filter(label__name="LOC", origin="model").count()
    assert counted(html) == f"4 articles and {locs} spans will be exported."
    bad = as_admin.get("/export/?status=done", headers={"HX-Request": "true"}).content.decode()
    assert 'role="alert"' in bad and "unknown status “done”" in bad


def jsonl(content: bytes) -> list[dict]:
    return [json.loads(line) for line in content.decode("utf-8").splitlines()]


def test_jsonl_has_one_article_a_line_with_spans_and_spacy_tokens(as_admin, corpus):
    records = jsonl(download(as_admin, "/export/spans.jsonl"))
    assert [r["article_id"] for r in records] == [a.pk for a in corpus]
    wire = records[0]
    assert (wire["text"], wire["title"], wire["source"], wire["status"]) == (
        WIRE,
        '=HYPERLINK("http://evil")',
        "@agencia",
        "reviewed",
    )
    assert records[3]["spans"] == [] and records[3]["tokens"][0]["text"] == "Un"
    for record in records:
        tokens = record["tokens"]
        assert [t["id"] for t in tokens] == list(range(len(tokens)))
        assert all(record["text"][t["start"] : t["end"]] == t["text"] for t in tokens)
        for span in record["spans"]:
            # Prodigy's convention: token_end is the last token of the span, inclusive.
            assert tokens[span["token_start"]]["start"] == span["start"]
            assert tokens[span["token_end"]]["end"] == span["end"]
            assert span["origin"] in {"model", "editor", "import"}
    assert [(s["start"], s["end"], s["label"]) for s in wire["spans"]] == [
        (s.start, s.end, s.label.name) for s in Span.objects.filter(article=corpus[0]).select_related("label")
    ]


@pytest.fixture
def unaligned(make_article) -> Article:
    """'Moscú' inside 'Moscúlandia': its end falls inside a token."""
    return make_article("Visitó Moscúlandia y Lima.", spans=[(7, 12, "LOC"), (21, 25, "LOC")])


def test_spans_that_do_not_align_to_tokens_are_kept_in_jsonl_and_reported(tmp_path, unaligned):
    out, err = tmp_path / "spans.jsonl", io.StringIO()
    call_command("export_spans", "--format", "jsonl", "-o", str(out), stderr=err)
    (record,) = jsonl(out.read_bytes())
    first = record["spans"][0]
    assert first == {"start": 7, "end": 12, "label": "LOC", "origin": "model", "span_id": first["span_id"]}
    assert record["spans"][1]["token_start"] == record["spans"][1]["token_end"] == 3
    span = Span.objects.get(article=unaligned, start=7)
    assert (
        f"article {unaligned.pk}, span {span.pk} (LOC 7–12 “Moscú”) does not align to spaCy tokens: "
        "exported without token_start/token_end.\n"
    ) in err.getvalue()
    assert Export.objects.get().unaligned == 1


def test_the_docbin_holds_the_aligned_spans_as_entities_and_reports_the_others(as_admin, corpus, unaligned):
    from spacy.tokens import DocBin

    response = as_admin.get("/export/spans.spacy?status=pre_annotated&status=reviewed")
    assert response["Export-Unaligned-Spans"] == "1"
    assert response["Content-Disposition"].endswith('.spacy"')
    docs = list(DocBin().from_bytes(response.content).get_docs(documents.tokenizer().vocab))
    articles = [corpus[0], unaligned]
    assert [doc.text for doc in docs] == [a.body for a in articles]
    assert [(e.start_char, e.end_char, e.label_) for e in docs[0].ents] == [
        (s.start, s.end, s.label.name) for s in Span.objects.filter(article=corpus[0]).select_related("label")
    ]
    assert [(e.text, e.label_) for e in docs[1].ents] == [("Lima", "LOC")]
    # The log counts the spans the DocBin holds, not the 12 asked for: "Moscú" is left out, and said so.
    log = Export.objects.get()
    assert (log.articles, log.spans, log.unaligned) == (2, 11, 1)


def test_spacy_train_reads_the_docbin(tmp_path, corpus, unaligned):
    data = tmp_path / "train.spacy"
    call_command("export_spans", "--format", "spacy", "-o", str(data), stderr=io.StringIO())
    config = tmp_path / "config.cfg"
    spacy = [sys.executable, "-m", "spacy"]
    init = [*spacy, "init", "config", str(config), "--lang", "es", "--pipeline", "ner"]
    subprocess.run(init, check=True, capture_output=True)  # noqa: S603 (spaCy's own command line)
    paths = ["--paths.train", str(data), "--paths.dev", str(data)]
    steps = ["--training.max_steps", "2", "--training.eval_frequency", "1"]
    trained = subprocess.run(  # noqa: S603 (spaCy's own command line)
        [*spacy, "train", str(config), "--output", str(tmp_path / "model"), *paths, *steps],
        capture_output=True,
        text=True,
    )
    assert trained.returncode == 0, trained.stderr + trained.stdout
    assert (tmp_path / "model" / "model-last" / "ner").is_dir()
    assert "Initialized pipeline" in trained.stdout + trained.stderr


def read_jsonl_into_the_database(content: bytes, folder) -> None:
    """Imports the export as an admin would: import_articles on the downloaded file."""
    path = folder / "export.jsonl"
    path.write_bytes(content)
    call_command("import_articles", str(path), "--no-preannotate", stdout=io.StringIO())


def snapshot() -> list[tuple]:
    """Articles and spans as an import stores them: a body that came in with CRLF line ends (possible
    only when written around the importer) is compared as the importer keeps it, with \n, its spans
    covering the same characters."""
    articles = Article.objects.order_by("id").prefetch_related(Prefetch("spans", Span.objects.select_related("label")))
    return [
        (
            normalise(a.body),
            a.title,
            a.source,
            a.external_id,
            [(len(normalise(a.body[: s.start])), len(normalise(a.body[: s.end])), s.label.name) for s in a.spans.all()],
        )
        for a in articles
    ]


def test_an_export_imported_into_an_empty_database_gives_the_same_articles_and_spans(
    as_admin, corpus, unaligned, tmp_path
):
    corpus[1].external_id = "efe-2026-0042"
    corpus[1].save(update_fields=["external_id"])
    before = snapshot()
    content = download(as_admin, "/export/spans.jsonl")
    Article.objects.all().delete()
    read_jsonl_into_the_database(content, tmp_path)
    assert snapshot() == before
    assert len(before) == 5 and sum(len(a[4]) for a in before) == 16


def test_the_command_writes_csv_to_standard_output_with_filters(capfdbinary, corpus):
    call_command("export_spans", "--status", "reviewed", "--label", "MISC")
    out = capfdbinary.readouterr().out
    rows = read_csv(out)
    assert ",".join(rows[0]) == HEADER
    assert span_ids(out) == set(
        Span.objects.filter(article__status="reviewed", label__name="MISC").values_list("pk", flat=True)
    )
    assert len(rows) == 1 + 4


def test_the_command_and_the_view_export_the_same_bytes(tmp_path, as_admin, corpus):
    out = tmp_path / "spans.csv"
    call_command("export_spans", "-o", str(out), "--excel", "--origin", "model", stderr=io.StringIO())
    assert out.read_bytes() == download(as_admin, "/export/spans.csv?excel=1&origin=model")
    assert not (tmp_path / "spans.csv.part").exists()


def test_the_command_refuses_bad_filters_and_formats_with_the_allowed_values(tmp_path):
    out = tmp_path / "spans.csv"
    allowed = "allowed: new, pre_annotated, in_review, reviewed"
    with pytest.raises(CommandError, match=f"status: unknown status “done”; {allowed}"):
        call_command("export_spans", "--status", "done", "-o", str(out))
    with pytest.raises(CommandError, match="Unknown export format “xlsx”; allowed: csv, jsonl, spacy, conll"):
        call_command("export_spans", "--format", "xlsx", "-o", str(out))
    with pytest.raises(CommandError, match="reviewed_to: Enter a valid date"):
        call_command("export_spans", "--reviewed-to", "31/12/2026", "-o", str(out))
    with pytest.raises(CommandError, match=f"Cannot write {tmp_path}/nowhere/spans.csv: there is no folder"):
        call_command("export_spans", "-o", str(tmp_path / "nowhere" / "spans.csv"))
    assert not out.exists() and not Export.objects.exists()


def server_side_state() -> tuple[int, str]:
    """Open cursors of this connection, and its transaction state as PostgreSQL sees it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        cursors = cursor.fetchone()[0]
    return cursors, connection.connection.info.transaction_status.name


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_an_interrupted_download_leaves_no_cursor_or_transaction_behind(monkeypatch, as_admin, make_article, fmt):
    for n in range(30):
        make_article(f"Artículo {n}: Putin visitó Moscú.", spans=[(13, 18, "PER"), (26, 31, "LOC")])
    # Hand each row over on its own and read few articles at a time, so the client leaves mid-query.
    monkeypatch.setattr(reading, "FLUSH_BYTES", 1)
    monkeypatch.setattr(rows, "FIRST_SLICE", 10)
    monkeypatch.setattr(documents, "CHUNK_ARTICLES", 5)
    response = as_admin.get(f"/export/spans.{fmt}")
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)
    if fmt == "csv":
        # Inside the COPY: the connection is busy with it.
        assert connection.connection.info.transaction_status.name == "ACTIVE"
    else:
        assert server_side_state() == (1, "INTRANS")  # the named cursor, between two fetches
    response.close()
    assert server_side_state() == (0, "IDLE")
    assert not connection.in_atomic_block
    log = Export.objects.get()
    assert log.finished_at is None and log.spans is None  # shown as interrupted on the export page
    # The connection is fine for the next request.
    assert len(read_csv(download(as_admin, "/export/spans.csv"))) == 61


@pytest.mark.django_db(transaction=True)
def test_an_export_reads_one_consistent_snapshot(monkeypatch, as_admin, make_article, admin):
    for n in range(12):
        make_article(f"Artículo {n}: Putin visitó Moscú.", spans=[(13, 18, "PER")])
    monkeypatch.setattr(reading, "FLUSH_BYTES", 1)
    monkeypatch.setattr(rows, "FIRST_SLICE", 2)
    response = as_admin.get("/export/spans.csv")
    chunks = iter(response.streaming_content)
    next(chunks), next(chunks)
    # Another connection (another editor) changes articles the export has not reached yet.
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:
        other.execute("DELETE FROM articles_span WHERE article_id = (SELECT max(id) FROM articles_article)")
    rest = b"".join(chunks)
    assert rest.count(b"\n") == 12 - 1


def test_exporting_to_a_device_writes_to_it_and_leaves_it_a_device(corpus):
    call_command("export_spans", "-o", "/dev/null", stderr=io.StringIO())
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not os.path.exists("/dev/null.part")

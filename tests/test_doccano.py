"""Out to doccano and back: the doccano JSONL export and CoNLL's doccano flavour, read here by
doccano's own parsing logic, ported below (no network at test time)."""

import io
import json

import pytest
from django.core.management import call_command

from articles.models import Article, Export, Span
from tests.conftest import span_texts
from tests.test_imports import run, write

pytestmark = pytest.mark.django_db


# doccano's parsing, ported --------------------------------------------------------------------------------
# From doccano/doccano, backend/data_import/pipeline/parsers.py (JSONLParser, CoNLLParser with its
# create_record and align_span), backend/data_import/pipeline/label.py (SpanLabel.parse and its
# check that start_offset < end_offset), and the strict IOB2 chunking they call, seqeval's
# Tokens(tags, IOB2).entities (chakki-works/seqeval, seqeval/scheme.py).


def doccano_jsonl(content: str) -> list[dict]:
    """JSONLParser: a JSON object a line; SpanLabel.parse: each `label` item zipped with
    (start_offset, end_offset, label), refused unless start_offset < end_offset, both >= 0."""
    examples = []
    for line in content.splitlines():
        row = json.loads(line.rstrip())
        spans = []
        for item in row["label"]:
            span = dict(zip(["start_offset", "end_offset", "label"], item, strict=False))
            assert 0 <= span["start_offset"] < span["end_offset"], "start_offset must be less than end_offset."
            assert isinstance(span["label"], str) and span["label"]
            spans.append(span)
        examples.append({"text": row["text"], "label": spans})
    return examples


def _iob2_entities(tags: list[str]) -> list[tuple[str, int, int]]:
    """seqeval's strict IOB2: an entity starts at B-X and goes on over I-X; anything else ends it."""
    entities, start, label = [], None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-")
        assert prefix in ("B", "I", "O"), f"Invalid token is found: {tag}."
        if start is not None and not (prefix == "I" and name == label):
            entities.append((label, start, i))
            start = None
        if prefix == "B":
            start, label = i, name
    return entities


def doccano_conll(content: str, delimiter: str = " ") -> list[dict]:
    """CoNLLParser.parse: lines split on a tab into exactly two columns (else an error and the file
    stops), a blank line ends an example; create_record joins the words with the delimiter and
    align_span turns each entity into (start, end, label) over that text."""
    examples, words, tags = [], [], []

    def record() -> dict:
        labels = []
        for tag, start_word, end_word in _iob2_entities(tags):
            before = delimiter.join(words[:start_word])
            start = len(before) + len(delimiter) if before else len(before)
            labels.append((start, start + len(delimiter.join(words[start_word:end_word])), tag))
        return {"text": delimiter.join(words), "label": labels}

    for line in content.splitlines():
        line = line.rstrip()
        if line:
            columns = line.split("\t")
            assert len(columns) == 2, "A line must be separated by tab and has two columns."
            words.append(columns[0])
            tags.append(columns[1])
        else:
            examples.append(record())
            words, tags = [], []
    if words:
        examples.append(record())
    return examples


# The tests ------------------------------------------------------------------------------------------------

WIRE = "🇪🇸 El presidente Pedro Sánchez 😀 se reunió en Bruselas con la Comisión Europea."


@pytest.fixture
def articles(make_article, tmp_path) -> list[Article]:
    """An article typed as text (with a flag and an emoji before its spans) and one read from CoNLL."""
    typed = make_article(
        WIRE,
        spans=[
            (WIRE.index("Pedro"), WIRE.index(" 😀"), "PER"),
            (WIRE.index("Bruselas"), WIRE.index(" con"), "LOC"),
            (WIRE.index("Comisión"), WIRE.index("."), "ORG"),
        ],
    )
    run(
        write(tmp_path, "ciu.conll", "La O\nCiU B-ORG\n. O\n\nEl O\ngasto O\nen O\nI+D B-MISC\n. O\n"),
        "--no-preannotate",
    )
    return [typed, Article.objects.get(body__startswith="La CiU")]


def test_the_doccano_export_is_what_doccanos_parser_reads_and_imports_back_the_same(tmp_path, articles, as_admin):
    output = tmp_path / "doccano.jsonl"
    err = io.StringIO()
    call_command("export_spans", "--format", "doccano", "-o", str(output), stderr=err)
    content = output.read_text(encoding="utf-8")
    assert err.getvalue() == f"Exported 5 spans of 2 articles to {output}.\n"
    lines = [json.loads(line) for line in content.splitlines()]
    assert [line["id"] for line in lines] == [a.pk for a in articles]
    examples = doccano_jsonl(content)
    for example, article in zip(examples, articles, strict=True):
        assert example["text"] == article.body
        assert [(example["text"][s["start_offset"] : s["end_offset"]], s["label"]) for s in example["label"]] == [
            (text, label) for text, label, _origin in span_texts(article)
        ]
    # The URL form of every other format, and a button on the export page.
    response = as_admin.get("/export/spans.doccano")
    assert response["Content-Disposition"].endswith('.doccano.jsonl"')
    assert b"".join(response.streaming_content).decode() == content
    assert 'formaction="/export/spans.doccano"' in as_admin.get("/export/").content.decode()
    assert list(Export.objects.values_list("format", "articles", "spans")) == [("doccano", 2, 5), ("doccano", 2, 5)]
    # And back: into an empty database, the same articles with the same spans.
    before = [(a.body, span_texts(a)) for a in articles]
    Span.objects.all().delete()
    Article.objects.all().delete()
    assert run(output, "--no-preannotate").startswith("Imported: 2 articles created, 0 duplicates skipped, 5 spans")
    after = [(a.body, [(t, label, "import") for t, label, _ in span_texts(a)]) for a in Article.objects.order_by("id")]
    assert after == [(body, [(t, label, "import") for t, label, _ in spans]) for body, spans in before]


def test_the_conll_export_for_doccano_is_what_doccanos_conll_parser_reads(articles, as_admin):
    response = as_admin.get("/export/spans.conll?doccano=1")
    assert response.status_code == 200 and response["Content-Disposition"].endswith('-doccano.conll"')
    content = response.content.decode()
    assert "-DOCSTART-" not in content and " " not in content.replace(" ", "")  # no NBSP either
    assert "\t" in content and all(len(line.split("\t")) == 2 for line in content.splitlines() if line)
    examples = doccano_conll(content)
    assert len(examples) == len(articles)
    for example, article in zip(examples, articles, strict=True):
        entities = [(example["text"][s:e], label) for s, e, label in example["label"]]
        assert entities == [(text, label) for text, label, _origin in span_texts(article)]
    assert examples[1]["text"] == "La CiU . El gasto en I+D ."
    assert 'name="doccano" value="1"' in as_admin.get("/export/").content.decode()
    log = Export.objects.get()
    assert (log.format, log.doccano, log.spans, log.unaligned) == ("conll", True, 5, 0)


def test_the_doccano_flavour_is_for_conll_only(tmp_path):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="The doccano flavour applies to CoNLL only"):
        call_command("export_spans", "--format", "jsonl", "--doccano", "-o", str(tmp_path / "x"))
    assert not (tmp_path / "x").exists() and not Export.objects.exists()

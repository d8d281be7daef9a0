"""CoNLL and IOB files in (IOB1, IOB2, BIOES; -DOCSTART- or datelines) and out (IOB2, spaCy's tokens)."""

import collections
import io

import pytest
from django.core.management import call_command

from articles.export.documents import tokenizer
from articles.ingest import conll, records
from articles.models import Article, ArticleTokens, Export, Label, Span
from tests.conftest import span_texts
from tests.test_imports import nothing_written, refused, run, write

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def tagged(*sentences: str, docstart: bool = False) -> str:
    """A CoNLL file from sentences written as "token/TAG token/TAG ..."."""
    lines = ["-DOCSTART- -X- O", ""] if docstart else []
    for sentence in sentences:
        lines += [" ".join(pair.rsplit("/", 1)) for pair in sentence.split()] + [""]
    return "\n".join(lines) + "\n"


def entities(article: Article) -> list[tuple[str, str]]:
    return [(text, label) for text, label, origin in span_texts(article)]


def test_the_spanish_conll_2002_training_file_imports_with_every_entity_per_label(conll2002_es):
    path = conll2002_es / "esp.train"
    # The file's own entities, as CoNLL's scorer counts them (a sentence ends every entity), by story:
    # the stories begin at their datelines, and a story the wire sent twice is stored once.
    with path.open(encoding="utf-8") as lines:
        stories = list(conll.read_conll(lines, "esp.train"))
    assert len(stories) == 922 and sum(len(s.spans) for s in stories) == 18_798
    first_of_each = {story.text: story for story in reversed(stories)}
    expected = collections.Counter(label for story in first_of_each.values() for _, _, label in story.spans)

    out = run(path, "--no-preannotate")
    assert out == (
        f"Imported: {len(first_of_each)} articles created, {len(stories) - len(first_of_each)} duplicates skipped, "
        f"{expected.total()} spans imported.\n"
    )
    stored = collections.Counter(Span.objects.values_list("label__name", flat=True))
    assert stored == expected == {"ORG": 7342, "LOC": 4885, "PER": 4308, "MISC": 2169}
    melbourne = Article.objects.filter(body__startswith="Melbourne").earliest("id")
    assert melbourne.title == "Melbourne (Australia), 25 may (EFE)."
    assert melbourne.body.startswith(
        "Melbourne (Australia), 25 may (EFE). - El Abogado General del Estado, Daryl Williams, subrayó hoy"
    )
    assert entities(melbourne)[:5] == [
        ("Melbourne", "LOC"),
        ("Australia", "LOC"),
        ("EFE", "ORG"),
        ("Abogado General del Estado", "PER"),
        ("Daryl Williams", "PER"),
    ]
    # Every span covers exactly its tokens: no space or punctuation at either end.
    for start, end, text in Span.objects.values_list("start", "end", "article__body")[:5000]:
        assert text[start:end] == text[start:end].strip() and text[start:end]


def sentences_of(lines) -> list[list[tuple[str, str]]]:
    """A CoNLL file's sentences as (token, tag) pairs, ``-DOCSTART-`` lines left out."""
    sentences, sentence = [], []
    for line in lines:
        columns = line.split()
        if columns and columns[0] != conll.DOCSTART:
            sentence.append((columns[0], columns[-1]))
        elif sentence:
            sentences.append(sentence)
            sentence = []
    return sentences + ([sentence] if sentence else [])


def test_no_story_of_the_training_file_is_only_a_heading(conll2002_es):
    """EFE writes a story's headings like its dateline, each a sentence followed by "-": they begin
    no story of their own, they stay with the story they head."""
    with (conll2002_es / "esp.train").open(encoding="utf-8") as lines:
        stories = list(conll.read_conll(lines, "esp.train"))
    for story in stories:
        bounds = [*story.sentence_starts, len(story.tokens)]
        words = [[story.text[s:e] for s, e in story.tokens[a:b]] for a, b in zip(bounds, bounds[1:], strict=False)]
        headed = {i for i in range(len(words) - 1) if words[i + 1] == ["-"]}
        body = [i for i, sentence in enumerate(words) if sentence != ["-"] and i not in headed]
        assert body, f"only headings: {story.text[:80]!r} ({story.where})"
    emprendedores = next(story for story in stories if story.text.startswith("(EMPRENDEDORES)"))
    assert emprendedores.text.startswith("(EMPRENDEDORES). - Mérida. - El consejero de Economía")
    assert not any(story.text in ("(EMPRENDEDORES). -", "Mérida. -") for story in stories)


def test_the_development_file_imported_and_exported_is_token_for_token_and_tag_for_tag_the_original(
    conll2002_es, tmp_path
):
    path = conll2002_es / "esp.testa"
    with path.open(encoding="utf-8") as lines:
        original = sentences_of(lines)
    with path.open(encoding="utf-8") as lines:
        stories = list(conll.read_conll(lines, "esp.testa"))
    run(path, "--no-preannotate")
    output = tmp_path / "testa.conll"
    call_command("export_spans", "--format", "conll", "-o", str(output), stderr=io.StringIO())
    exported = sentences_of(output.read_text(encoding="utf-8").splitlines())
    # A story the wire sent twice is stored once: its second copy's sentences are not exported.
    seen, expected, at = set(), [], 0
    for story in stories:
        count = len(story.sentence_starts)
        if story.text not in seen:
            expected += original[at : at + count]
        seen.add(story.text)
        at += count
    assert at == len(original) == 1915
    assert len(stories) - len(seen) == 1
    assert exported == expected
    tokens, tags = sum(map(len, exported)), collections.Counter(tag for s in exported for _, tag in s)
    print(f"\nesp.testa round trip: {len(exported)} sentences, {tokens} tokens, tags {dict(tags)}")
    assert Export.objects.get().unaligned == 0
    # Imported again, the export adds nothing: every story is a duplicate.
    assert run(output, "--no-preannotate").startswith(f"Imported: 0 articles created, {len(seen)} duplicates")


def test_iob1_iob2_and_bioes_read_the_same_entities(tmp_path):
    iob2 = tagged("El/O rey/O Felipe/B-PER VI/I-PER visitó/O Nueva/B-LOC York/I-LOC ./O")
    iob1 = tagged("El/O rey/O Felipe/I-PER VI/I-PER visitó/O Nueva/I-LOC York/I-LOC ./O")
    bioes = tagged("El/O rey/O Felipe/B-PER VI/E-PER visitó/O Nueva/B-LOC York/E-LOC ./O")
    for name, content in [("a.conll", iob2), ("b.iob", iob1.replace("./O", "hoy/O ./O")), ("c.conll", bioes + "\n")]:
        write(tmp_path, name, content)
    run(tmp_path / "a.conll", tmp_path / "b.iob", "--no-preannotate")
    # The BIOES file's text is the IOB2 file's: a duplicate.
    assert run(tmp_path / "c.conll", "--no-preannotate").startswith("Imported: 0 articles created, 1 duplicate")
    for article in Article.objects.all():
        assert entities(article) == [("Felipe VI", "PER"), ("Nueva York", "LOC")]
    # IOB1's B- only parts two entities of one kind side by side.
    write(tmp_path, "d.iob", tagged("Kim/I-PER Putin/B-PER y/O Xi/I-PER Jinping/I-PER ./O"))
    run(tmp_path / "d.iob", "--no-preannotate")
    assert entities(Article.objects.get(body__startswith="Kim")) == [
        ("Kim", "PER"),
        ("Putin", "PER"),
        ("Xi Jinping", "PER"),
    ]
    write(tmp_path, "e.conll", tagged("La/O ONU/S-ORG y/O la/O Unión/B-ORG Africana/E-ORG ./O"))
    run(tmp_path / "e.conll", "--no-preannotate")
    assert entities(Article.objects.get(body__startswith="La ONU")) == [("ONU", "ORG"), ("Unión Africana", "ORG")]


def test_tokens_are_joined_into_readable_text_with_spans_over_exactly_their_characters(tmp_path):
    content = tagged(
        '¿/O Vendrá/O el/O "/O Rey/B-PER "/O (/O Felipe/B-PER VI/I-PER )/O a/O Madrid/B-LOC ,/O 5/O %/O ?/O',
        "¡/O Sí/O !/O Lo/O dijo/O El/B-ORG País/I-ORG ./O",
    )
    write(tmp_path, "a.iob", content)
    run(tmp_path / "a.iob", "--no-preannotate")
    article = Article.objects.get()
    assert article.body == '¿Vendrá el "Rey" (Felipe VI) a Madrid, 5%? ¡Sí! Lo dijo El País.'
    assert entities(article) == [("Rey", "PER"), ("Felipe VI", "PER"), ("Madrid", "LOC"), ("El País", "ORG")]


def test_articles_are_parted_by_docstart_lines_else_at_datelines(tmp_path):
    docs = tagged("Uno/O ./O", docstart=True) + tagged("Dos/B-LOC ./O", docstart=True)
    write(tmp_path, "docs.conll", docs)
    wire = tagged(
        "Madrid/B-LOC ,/O 23/O may/O (/O EFE/B-ORG )/O ./O",
        "-/O",
        "El/O Gobierno/B-ORG aprobó/O hoy/O el/O plan/O ./O",
        "Roma/B-LOC ,/O 23/O may/O (/O EFE/B-ORG )/O ./O",
        "-/O",
        "El/O papa/O habló/O ./O",
    )
    write(tmp_path, "wire.conll", wire)
    assert run(tmp_path / "docs.conll", tmp_path / "wire.conll", "--no-preannotate").startswith(
        "Imported: 4 articles created"
    )
    bodies = list(Article.objects.order_by("id").values_list("body", flat=True))
    assert bodies == [
        "Uno.",
        "Dos.",
        "Madrid, 23 may (EFE). - El Gobierno aprobó hoy el plan.",
        "Roma, 23 may (EFE). - El papa habló.",
    ]


def test_a_txt_file_is_conll_only_when_its_first_two_lines_are_token_tag_lines(tmp_path):
    write(tmp_path, "tagged.txt", "Putin\tNP\tB-PER\nhabló VMI O\n. Fp O\n")
    # Lines of prose may end in something like a tag, but two of them rarely have the same number of words.
    write(tmp_path, "prose.txt", "Vuelve el B-52\n\nEl bombardero B-52 volvió a volar sobre el Pacífico O\n")
    write(tmp_path, "one.txt", "Hola O\n")
    assert run(tmp_path / "tagged.txt", tmp_path / "prose.txt", tmp_path / "one.txt", "--no-preannotate").startswith(
        "Imported: 3 articles created"
    )
    assert entities(Article.objects.get(body="Putin habló.")) == [("Putin", "PER")]
    prose = Article.objects.get(title="Vuelve el B-52")
    assert prose.body == "Vuelve el B-52\n\nEl bombardero B-52 volvió a volar sobre el Pacífico O\n"
    assert Article.objects.filter(body="Hola O\n").exists()


BAD = {
    "broken sequence": (
        "Felipe B-PER\nVI I-PER\ndijo O\nque O\nVI I-PER\n",
        "line 5: I-PER without a B-PER before it (IOB2)",
    ),
    "another kind": ("Felipe B-PER\nVI I-LOC\n", "line 2: I-LOC without a B-LOC before it (IOB2)"),
    "not a tag": (
        "Felipe B-PER\nVI I_PER\n",
        "line 2: 'I_PER' is not a tag (O, or B-, I-, E-, S- and a label of one word)",
    ),
    "one column": (
        "Felipe B-PER\nVI\n",
        "line 2: one column, 'VI': a token and its tag need two, apart by spaces or tabs",
    ),
    "empty token": ("Felipe B-PER\n\tO\n", "line 2: an empty token: the line holds only 'O'"),
    "tab and space leaving one column": ("Felipe\tB-PER\nVI \t\n", "line 2: one column, 'VI'"),
    "bioes without its end": (
        "La S-ORG\nFelipe B-PER\nVI I-PER\n. O\n",
        "line 4: the PER entity begun at line 5 ends without E-PER",
    ),
    "mixed schemes": (
        "Felipe B-PER\n. O\nLa S-ORG\n",
        "line 3: S-ORG in a file whose tags are IOB2 (mixed tag schemes)",
    ),
}


@pytest.mark.parametrize("content, reason", BAD.values(), ids=BAD.keys())
def test_a_bad_conll_file_is_refused_with_file_line_and_reason(tmp_path, content, reason):
    path = write(tmp_path, "bad.conll", "Hola O\nmundo O\n\n" + content)
    message = refused(path, "--no-preannotate")
    line, _, why = reason.partition(": ")
    number = int(line.split()[1]) + 3
    assert f"{path}, line {number}: {why}" in message


def test_an_article_longer_than_the_model_reads_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(conll, "MAX_LENGTH", 30)
    monkeypatch.setattr(records, "MAX_LENGTH", 30)
    path = write(tmp_path, "long.conll", tagged("Uno/O dos/O tres/O ./O", "Cuatro/O cinco/O seis/O siete/O ./O"))
    assert f"{path}, line 10: the article begun at line 1 is longer than the model's limit of 30 characters" in refused(
        path, "--no-preannotate"
    )
    jsonl = write(tmp_path, "long.jsonl", '{"text": "' + "palabra " * 5 + '"}\n')
    assert f"{jsonl}, line 1: the article has 40 characters, more than the model's limit of 30" in refused(jsonl)
    assert nothing_written()


# Out -----------------------------------------------------------------------------------------------------


def export(*args: str) -> tuple[str, str]:
    out, err = io.BytesIO(), io.StringIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    call_command("export_spans", "--format", "conll", *args, stdout=stdout, stderr=err)
    return out.getvalue().decode(), err.getvalue()


def test_the_conll_export_writes_iob2_over_spacys_tokens_and_reports_what_does_not_align(
    tmp_path, make_article, as_admin, capsys
):
    body = "El rey Felipe VI visitó Nueva York el lunes.\n\nDespués fue a Moscúlandia."
    article = make_article(body)
    label = Label.objects.ids()
    for text, name in [("Felipe VI", "PER"), ("Nueva York", "LOC"), ("Moscú", "LOC")]:
        start = body.index(text)
        end = start + len(text)
        Span.objects.create(article=article, start=start, end=end, label_id=label[name], origin="import")
    output = tmp_path / "spans.conll"
    call_command("export_spans", "--format", "conll", "-o", str(output))
    text = output.read_text(encoding="utf-8")
    tokens = [t.text for t in tokenizer()(body) if not t.is_space]
    lines = text.split("\n")
    assert lines[0] == "-DOCSTART- O" and lines[1] == ""
    assert [line.split(" ")[0] for line in lines[2:] if line] == tokens
    assert "Felipe B-PER\nVI I-PER\nvisitó O\nNueva B-LOC\nYork I-LOC\n" in text
    # A paragraph is a new sentence; "Moscú" ends inside the token "Moscúlandia": left out, and said so.
    assert "lunes O\n. O\n\nDespués O\n" in text and "Moscúlandia O\n" in text
    assert "Moscú" in capsys.readouterr().err
    response = as_admin.get("/export/spans.conll")
    assert response.status_code == 200 and response["Export-Unaligned-Spans"] == "1"
    assert response.content.decode() == text
    # What the export writes, the import reads back: the same entities over the same words.
    Span.objects.all().delete()
    Article.objects.all().delete()
    run(output, "--no-preannotate")
    assert entities(Article.objects.get()) == [("Felipe VI", "PER"), ("Nueva York", "LOC")]


def test_an_article_from_conll_keeps_its_tokens_so_every_export_aligns_its_entities(tmp_path, capsys):
    """spaCy cuts 'CiU.' and 'I+D.' otherwise than the file: with the file's own tokens kept, every
    entity aligns, in CoNLL, JSONL and the DocBin alike, and CoNLL gives back the file's lines."""
    content = tagged(
        "La/O CiU/B-ORG ./O",
        "El/O gasto/O en/O I+D/B-MISC ./O",
        "Pujol/B-PER habló/O en/O nombre/O de/O CiU/B-ORG ./O",
    )
    path = write(tmp_path, "ciu.conll", content)
    run(path, "--no-preannotate")
    article = Article.objects.get()
    assert article.body == "La CiU. El gasto en I+D. Pujol habló en nombre de CiU."
    assert [t.text for t in tokenizer()(article.body) if t.text.startswith(("CiU", "I+D"))] != ["CiU", "I+D", "CiU"]
    stored = article.tokens
    assert stored.words(article.body)[:3] == ["La", "CiU", "."] and stored.sentence_starts == [0, 3, 8]
    output, err = export("-o", str(tmp_path / "out.conll"))
    assert sentences_of((tmp_path / "out.conll").read_text().splitlines()) == sentences_of(content.splitlines())
    assert "does not align" not in err + capsys.readouterr().err
    call_command("export_spans", "--format", "spacy", "-o", str(tmp_path / "out.spacy"), stderr=io.StringIO())
    from spacy.tokens import DocBin

    (doc,) = DocBin().from_disk(tmp_path / "out.spacy").get_docs(tokenizer().vocab)
    assert [(e.text, e.label_) for e in doc.ents] == [("CiU", "ORG"), ("I+D", "MISC"), ("Pujol", "PER"), ("CiU", "ORG")]
    assert list(Export.objects.values_list("format", "spans", "unaligned")) == [("spacy", 4, 0), ("conll", 4, 0)]


def test_text_not_from_conll_keeps_spacys_tokens_and_counts_what_it_left_out(tmp_path, make_article):
    """The same words typed as text: spaCy's tokens, where 'I+D.' is one token, so that entity is
    reported by its id and left out of the count the command prints."""
    body = "El gasto en I+D. creció."
    article = make_article(body, spans=[(12, 15, "MISC")])
    output, err = export("-o", str(tmp_path / "out.conll"))
    span = article.spans.get()
    assert f"article {article.pk}, span {span.pk} (MISC 12–15 “I+D”) does not align to spaCy tokens" in err
    assert f"Exported 0 spans of 1 articles to {tmp_path / 'out.conll'}; 1 spans not aligned" in err
    assert not ArticleTokens.objects.exists() and Export.objects.get().spans == 0

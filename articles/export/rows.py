"""The CSV export: one row per span, written by PostgreSQL itself (``COPY (SELECT ...) TO STDOUT``)."""

import functools
from collections.abc import Iterator
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, F, Func, Q, QuerySet, TextField, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Substr

from articles.export.filters import ExportFilters
from articles.export.reading import Report, Snapshot, buffered
from articles.models import Span, SpanQuerySet

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
# Articles per COPY: small first so rows leave at once, then doubling so a large export runs few.
FIRST_SLICE, LARGEST_SLICE = 50, 10_000


def _spreadsheet_safe(expression: Combinable) -> Func:
    # One reference to the expression, so that PostgreSQL computes it once a row.
    return Func(expression, Value(FORMULA_START), Value(r"'\1"), function="regexp_replace", output_field=TextField())


def _csv_rows(spans: SpanQuerySet[Span]) -> QuerySet[Span, tuple[Any, ...]]:
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


def csv_select(spans: SpanQuerySet[Span]) -> tuple[str, tuple[Any, ...]]:
    return _csv_rows(spans).query.sql_with_params()


def _article_slices(filters: ExportFilters) -> Iterator[Q]:
    """Conditions on article ids that cut the export into slices, so no statement sorts it whole."""
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


def csv_chunks(filters: ExportFilters, report: Report, *, excel: bool = False) -> Iterator[bytes]:
    """The CSV: a header line, then one line per span, by article then start. ``excel`` adds a BOM and CRLF."""
    end = b"\r\n" if excel else b"\n"
    yield ("\ufeff" if excel else "").encode() + ",".join(CSV_COLUMNS).encode() + end
    with Snapshot(), connection.cursor() as cursor:
        for ids in _article_slices(filters):
            sql, params = csv_select(filters.spans().filter(ids))
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                # PostgreSQL sends each row as its own message, ending with \n.
                lines = (bytes(row[:-1]) + end for row in copy) if excel else copy
                yield from buffered(lines)
            report.spans += cursor.cursor.rowcount
        report.articles = filters.articles().count()

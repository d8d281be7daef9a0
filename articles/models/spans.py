"""Entity spans, their append-only history, and suggestions offered across articles.

Triggers keep spans inside the body and apart, per statement, and refuse to update history rows.
"""

import struct
from collections.abc import Buffer, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Self, TypeVar

import numpy as np
from django.conf import settings
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.expressions import Combinable
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from articles.models.corpus import Article
from articles.models.fields import someone, someone_index

_Spans = TypeVar("_Spans", bound="SpanFields")


class SpanQuerySet(models.QuerySet[_Spans]):
    def touched_by_editors(self) -> Self:
        """Spans an editor created, relabelled, resized or accepted, and imported ones."""
        return self.exclude(origin=Span.Origin.MODEL, updated_by__isnull=True)

    def untouched_model_output(self) -> Self:
        return self.filter(origin=Span.Origin.MODEL, updated_by__isnull=True)

    def count_by_article(self, article_ids: list[int]) -> dict[int, int]:
        """In one query, for a page of the queue."""
        rows = self.filter(article_id__in=article_ids).order_by().values("article_id").annotate(n=models.Count("pk"))
        return {row["article_id"]: row["n"] for row in rows}

    def insert_new(
        self,
        rows: np.ndarray | Sequence[tuple[int, int, int, int]],
        *,
        origin: str,
        now: datetime,
        created_by_id: int | None = None,
        model: tuple[str, str] = ("", ""),
        history: Mapping[int, int] | None = None,
    ) -> int:
        """Stores new spans, rows of (article id, start, end, label id), by binary COPY; returns how
        many. The one bulk path (docs/importing.md). ``history`` (article id -> version) also writes
        each span's "created" row. The caller holds the articles: versions are not checked here.
        """
        rows = np.asarray(rows, np.int64).reshape(-1, 4)
        if not len(rows):
            return 0
        name, version = model
        fixed = (origin, name, version, created_by_id, now, now)
        with connection.cursor() as cursor:
            ids: list[int] = []
            if history is not None:
                # The spans' ids first, from their sequence, so that their history can name them, and
                # the labels' names the history rows carry, in one round trip.
                cursor.execute(IDS_AND_LABELS, [len(rows)])
                ids, label_ids, label_names = cursor.fetchone()
                names = dict(zip(label_ids, label_names, strict=True))
            with cursor.cursor.copy(COPY_SPANS[history is not None]) as copy:
                for data in binary_copy(rows if history is None else np.column_stack((ids, rows)), fixed):
                    copy.write(data)
            if history is not None:
                described = f"{name} {version}" if name else ""
                kind = SpanEventKind.CREATED.value
                with cursor.cursor.copy(COPY_CREATED) as copy:
                    copy.set_types(CREATED_TYPES)
                    for pk, (article, start, end, label) in zip(ids, rows.tolist(), strict=True):
                        copy.write_row(
                            (article, pk, kind, origin, now, history[article], start, end, names[label], described, "")
                        )
        return len(rows)


IDS_AND_LABELS = """
SELECT ARRAY(SELECT nextval(pg_get_serial_sequence('articles_span', 'id')) FROM generate_series(1, %s)), l.ids, l.names
FROM (SELECT array_agg(id) AS ids, array_agg(name) AS names FROM articles_label) l
"""
_SPAN_COLUMNS = (
    'article_id, start, "end", label_id, origin, model_name, model_version, created_by_id, created_at, updated_at'
)
# Without ids (the sequence fills them in) and with ids drawn beforehand.
COPY_SPANS = {
    False: f"COPY articles_span ({_SPAN_COLUMNS}) FROM STDIN (FORMAT BINARY)",
    True: f"COPY articles_span (id, {_SPAN_COLUMNS}) FROM STDIN (FORMAT BINARY)",
}
# The leading columns as PostgreSQL's binary COPY sends them, (id,) article_id, start, "end", label_id:
# int8, int4, int4, int8.
_SPAN_KEY_WIDTHS = (8, 4, 4, 8)
_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_COPY_PIECE = 16_384


def binary_copy(rows: np.ndarray, fixed: tuple[str, str, str, int | None, datetime, datetime]) -> Iterator[Buffer]:
    """The rows in COPY's binary format, a piece at a time so PostgreSQL stores one while the next is
    laid out: each row's integers from ``rows``, then the same ``fixed`` values."""
    widths = (8, *_SPAN_KEY_WIDTHS) if rows.shape[1] == len(_SPAN_KEY_WIDTHS) + 1 else _SPAN_KEY_WIDTHS
    origin, name, version, created_by, created_at, updated_at = fixed
    tail = b"".join(struct.pack(">i", len(text)) + text for text in (s.encode() for s in (origin, name, version)))
    tail += struct.pack(">i", -1) if created_by is None else struct.pack(">ii", 4, created_by)
    for moment in (created_at, updated_at):
        tail += struct.pack(">iq", 8, (moment - _POSTGRES_EPOCH) // timedelta(microseconds=1))
    fields = [("count", ">i2")]
    for column, width in enumerate(widths):
        fields += [(f"length{column}", ">i4"), (f"value{column}", f">i{width}")]
    layout = np.dtype([*fields, ("tail", f"V{len(tail)}")])
    yield b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    for first in range(0, len(rows), _COPY_PIECE):
        piece = rows[first : first + _COPY_PIECE]
        out = np.empty(len(piece), layout)
        out["count"] = len(widths) + 6
        for column, width in enumerate(widths):
            out[f"length{column}"] = width
            out[f"value{column}"] = piece[:, column]
        out["tail"] = np.void(tail)
        yield out.data
    yield b"\xff\xff"


COPY_CREATED = (
    "COPY articles_spanevent (article_id, span_id, kind, origin, at, article_version, "
    "after_start, after_end, after_label, model, before_label) FROM STDIN (FORMAT BINARY)"
)
CREATED_TYPES = [
    "int8",
    "int8",
    "varchar",
    "varchar",
    "timestamptz",
    "int4",
    "int4",
    "int4",
    "varchar",
    "varchar",
    "varchar",
]


class SpanOrigin(models.TextChoices):
    MODEL = "model", _("Model")
    EDITOR = "editor", _("Editor")
    IMPORT = "import", _("Import")


class SpanFields(models.Model):
    """A span's columns, in an article (``Span``) or an editor's version (``VersionSpan``)."""

    Origin = SpanOrigin

    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    origin = models.CharField(max_length=8, choices=Origin)
    model_name = models.CharField(max_length=200, blank=True)
    model_version = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Subclasses declare article, label, created_by and updated_by (empty while a model span is untouched).
    article: models.ForeignKey[Article | Combinable, Article]
    label_id: int

    objects = SpanQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.label_id}@{self.start}:{self.end}"

    @property
    def text(self) -> str:
        return self.article.body[self.start : self.end]


class Span(SpanFields):
    """A span of the article: what export, quality and training read."""

    # No row-by-row foreign keys (docs/data-model.md): triggers check a whole statement's keys.
    # Indexed by span_article_start.
    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="spans", db_index=False, db_constraint=False
    )
    # Not indexed: spans are read by article; a label's are looked up only when an admin deletes it.
    label = models.ForeignKey(
        "articles.Label", on_delete=models.PROTECT, related_name="spans", db_index=False, db_constraint=False
    )
    created_by = someone(db_index=False, db_constraint=False)
    updated_by = someone(db_index=False, db_constraint=False)

    class Meta:
        ordering = ["article", "start"]
        indexes = [
            models.Index(fields=["article", "start"], name="span_article_start"),
            someone_index("created_by", "span_created_by"),
            someone_index("updated_by", "span_updated_by"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0) & Q(start__lt=F("end")), name="span_start_before_end"),
            models.CheckConstraint(condition=Q(origin__in=SpanOrigin.values), name="span_origin_valid"),
        ]


class SpanEventKind(models.TextChoices):
    CREATED = "created", pgettext_lazy("entity change", "Created")
    ACCEPTED = "accepted", pgettext_lazy("entity change", "Accepted")
    RELABELLED = "relabelled", pgettext_lazy("entity change", "Relabelled")
    RESIZED = "resized", pgettext_lazy("entity change", "Resized")
    DELETED = "deleted", pgettext_lazy("entity change", "Deleted")
    RESTORED = "restored", pgettext_lazy("entity change", "Restored")


class SpanEvent(models.Model):
    """One change to one span."""

    Kind = SpanEventKind

    # Indexed by spanevent_article_actor, which begins with it.
    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="events", db_index=False)
    # No foreign key: the span may be gone, its history stays.
    span_id = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=Kind)
    origin = models.CharField(max_length=8, choices=SpanOrigin)
    # Null for the model's own changes. PROTECT: history names its authors (deactivate users instead).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    at = models.DateTimeField(auto_now_add=True)
    # The version of the article the change made; for a change in an editor's version of the
    # article (``annotation``), the version of that.
    article_version = models.PositiveIntegerField()
    annotation = models.ForeignKey(
        "articles.Annotation", null=True, blank=True, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    undoes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by")
    before_start = models.PositiveIntegerField(null=True)
    before_end = models.PositiveIntegerField(null=True)
    before_label = models.CharField(max_length=32, blank=True)
    after_start = models.PositiveIntegerField(null=True)
    after_end = models.PositiveIntegerField(null=True)
    after_label = models.CharField(max_length=32, blank=True)
    # "name version" of the pipeline whose output this is; blank for editors' changes.
    model = models.CharField(max_length=250, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["article", "actor", "id"], name="spanevent_article_actor"),
            someone_index("actor", "spanevent_actor"),
            models.Index(fields=["annotation"], condition=Q(annotation__isnull=False), name="spanevent_annotation"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SpanEventKind.values), name="spanevent_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} span {self.span_id}"


class SuggestionQuerySet(models.QuerySet["Suggestion"]):
    def pending(self) -> "SuggestionQuerySet":
        return self.filter(status=Suggestion.Status.PENDING)


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("suggestion", "Pending")
    ACCEPTED = "accepted", pgettext_lazy("suggestion", "Accepted")
    DISMISSED = "dismissed", pgettext_lazy("suggestion", "Dismissed")


class Suggestion(models.Model):
    """Text an editor labelled elsewhere, offered here; a dismissed one stays so it is not offered again."""

    Status = SuggestionStatus

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="suggestions")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    label = models.ForeignKey("articles.Label", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    # No foreign key: the history keeps the span's id after it is gone.
    source_span_id = models.BigIntegerField()
    source_article = models.ForeignKey(
        "articles.Article", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = someone()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = someone()

    objects = SuggestionQuerySet.as_manager()

    class Meta:
        ordering = ["article", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0) & Q(start__lt=F("end")), name="suggestion_bounds"),
            models.CheckConstraint(condition=Q(status__in=SuggestionStatus.values), name="suggestion_status_valid"),
            models.UniqueConstraint(fields=["article", "start", "end", "label"], name="suggestion_unique"),
        ]
        indexes = [
            models.Index(fields=["article", "status"], name="suggestion_article_status"),
            models.Index(fields=["source_span_id"], condition=Q(status="pending"), name="suggestion_pending_source"),
        ]

    def __str__(self) -> str:
        return f"{self.label_id}@{self.start}:{self.end} ({self.status})"

    @property
    def text(self) -> str:
        return self.article.body[self.start : self.end]

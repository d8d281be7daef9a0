"""Articles, their entity spans and labels, and the append-only history of span changes.

Integrity lives in PostgreSQL: check constraints, an exclusion constraint against overlapping spans,
a trigger that keeps spans inside their article's body, and another that keeps history append-only
(see the migrations). The Python checks in ``actions`` exist only to give friendly messages.
"""

import hashlib

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import IntegerRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


class IntRange(Func):
    """``int4range(start, end)``: half-open, like a Python slice."""

    function = "int4range"
    output_field = IntegerRangeField()


class Label(models.Model):
    name = models.CharField(max_length=32, unique=True)
    description = models.CharField(max_length=200, blank=True)
    color = models.CharField(max_length=7, help_text="Background colour, #rrggbb.")
    hotkey = models.CharField(max_length=1, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="label_color_hex"),
            models.CheckConstraint(condition=Q(name__regex=r"^\S+$"), name="label_name_no_space"),
            models.UniqueConstraint(fields=["hotkey"], condition=~Q(hotkey=""), name="label_hotkey_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class ImportBatch(models.Model):
    """One upload or one run of import_articles: what the queue filters by and the summary reports."""

    name = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return self.name


class ArticleQuerySet(models.QuerySet):
    def pending_preannotation(self) -> "ArticleQuerySet":
        """Never pre-annotated, and not set aside by a failure."""
        return self.filter(status=Article.Status.NEW, preannotation_error="")

    def failed_preannotation(self) -> "ArticleQuerySet":
        return self.exclude(preannotation_error="")

    def preannotated_since(self, moment) -> "ArticleQuerySet":
        return self.filter(preannotated_at__gte=moment)

    def needs_review(self) -> "ArticleQuerySet":
        return self.filter(status__in=[Article.Status.PRE_ANNOTATED, Article.Status.IN_REVIEW])

    def with_span_count(self) -> "ArticleQuerySet":
        return self.annotate(span_count=models.Count("spans"))


class ArticleStatus(models.TextChoices):
    NEW = "new", "new"
    PRE_ANNOTATED = "pre_annotated", "pre-annotated"
    IN_REVIEW = "in_review", "in review"
    REVIEWED = "reviewed", "reviewed"


class Article(models.Model):
    Status = ArticleStatus

    title = models.CharField(max_length=300)
    body = models.TextField()
    body_length = models.PositiveIntegerField(editable=False)
    content_hash = models.CharField(max_length=64, unique=True, editable=False)
    source = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="articles")
    status = models.CharField(max_length=16, choices=Status, default=Status.NEW)
    # When the model last stored its spans here, and why it could not, if it could not (the reason
    # stays until a retry succeeds; such an article no longer counts as pending).
    preannotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    preannotation_error = models.TextField(blank=True, editable=False)
    # Optimistic concurrency: every change to the article or its spans increments it, and a change
    # made on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        permissions = [
            ("review_article", "Can correct spans and review articles"),
            ("import_articles", "Can upload and import articles"),
            ("export_spans", "Can export annotations"),
        ]
        indexes = [
            models.Index(fields=["status", "id"], name="article_status_id"),
            models.Index(fields=["preannotated_at"], name="article_preannotated_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(body_length=Func(F("body"), function="char_length")), name="article_body_length"
            ),
            models.CheckConstraint(condition=Q(status__in=ArticleStatus.values), name="article_status_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="article_version_positive"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.body_length = len(self.body)
        self.content_hash = content_hash(self.body)
        super().save(*args, **kwargs)


class SpanQuerySet(models.QuerySet):
    def touched_by_editors(self) -> "SpanQuerySet":
        """Spans an editor created, relabelled, resized or accepted, and imported ones."""
        return self.exclude(origin=Span.Origin.MODEL, updated_by__isnull=True)

    def untouched_model_output(self) -> "SpanQuerySet":
        return self.filter(origin=Span.Origin.MODEL, updated_by__isnull=True)


class SpanOrigin(models.TextChoices):
    MODEL = "model"
    EDITOR = "editor"
    IMPORT = "import"


class Span(models.Model):
    Origin = SpanOrigin

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    label = models.ForeignKey(Label, on_delete=models.PROTECT, related_name="spans")
    origin = models.CharField(max_length=8, choices=Origin)
    model_name = models.CharField(max_length=200, blank=True)
    model_version = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Null while a model span is as the model proposed it; set by any editor action on it.
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SpanQuerySet.as_manager()

    class Meta:
        ordering = ["article", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0) & Q(start__lt=F("end")), name="span_start_before_end"),
            models.CheckConstraint(condition=Q(origin__in=SpanOrigin.values), name="span_origin_valid"),
            ExclusionConstraint(
                name="span_no_overlap",
                expressions=[("article", RangeOperators.EQUAL), (IntRange("start", "end"), RangeOperators.OVERLAPS)],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label_id}@{self.start}:{self.end}"

    @property
    def text(self) -> str:
        return self.article.body[self.start : self.end]


class SpanEventKind(models.TextChoices):
    CREATED = "created"
    ACCEPTED = "accepted"
    RELABELLED = "relabelled"
    RESIZED = "resized"
    DELETED = "deleted"
    RESTORED = "restored"


class SpanEvent(models.Model):
    """One change to one span. Rows are only ever inserted (a trigger refuses updates)."""

    Kind = SpanEventKind

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="events")
    # No foreign key: the span may be gone, its history stays.
    span_id = models.BigIntegerField()
    kind = models.CharField(max_length=12, choices=Kind)
    origin = models.CharField(max_length=8, choices=SpanOrigin)
    # Null for the model's own changes. PROTECT: history names its authors (deactivate users instead).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    article_version = models.PositiveIntegerField()
    # The event this one undoes, if any.
    undoes = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="undone_by")
    before_start = models.PositiveIntegerField(null=True)
    before_end = models.PositiveIntegerField(null=True)
    before_label = models.CharField(max_length=32, blank=True)
    after_start = models.PositiveIntegerField(null=True)
    after_end = models.PositiveIntegerField(null=True)
    after_label = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["article", "actor", "id"], name="spanevent_article_actor")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=SpanEventKind.values), name="spanevent_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} span {self.span_id}"


class ReferenceSpan(models.Model):
    """A phrase highlighted in the article's source (the seeds' links): a yardstick, never edited."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="reference_spans")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    source = models.CharField(max_length=100, help_text="Where the highlight comes from.")

    class Meta:
        ordering = ["article", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__gte=0) & Q(start__lt=F("end")), name="referencespan_bounds"),
            models.UniqueConstraint(fields=["article", "start", "end"], name="referencespan_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.start}:{self.end}"

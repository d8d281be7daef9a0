"""What the app records of its runs: exports, retrained models, the quality page's cached figures."""

from django.db import models
from django.db.models import Q

from articles.models.fields import someone


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSONL"
    SPACY = "spacy", "spaCy DocBin"
    CONLL = "conll", "CoNLL (IOB2)"


class Export(models.Model):
    """One run of an export, from the export page or the command: who, what, and how it ended.

    The counts stay empty while it runs; a row whose ``finished_at`` stays empty was interrupted.
    """

    Format = ExportFormat

    created_at = models.DateTimeField(auto_now_add=True)
    # Empty for the command line.
    created_by = someone()
    format = models.CharField(max_length=8, choices=Format)
    excel = models.BooleanField(default=False)
    # The query string of the filters, as the export page and the URL take them.
    filters = models.CharField(max_length=2000, blank=True)
    articles = models.PositiveIntegerField(null=True)
    spans = models.PositiveIntegerField(null=True)
    unaligned = models.PositiveIntegerField(null=True, help_text="Spans whose edges fall inside a spaCy token.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(format__in=ExportFormat.values), name="export_format_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.format} export of {self.created_at:%Y-%m-%d %H:%M}"


class TrainedModel(models.Model):
    """A pipeline fine-tuned on reviewed articles, with its scores beside the model it was trained from.

    At most one is active; pre-annotation uses it instead of ``settings.SPACY_MODEL``.
    """

    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(unique=True)
    path = models.CharField(max_length=500)
    base = models.CharField(max_length=500, help_text="The pipeline it was fine-tuned from.")
    train_articles = models.PositiveIntegerField()
    dev_articles = models.PositiveIntegerField()
    # {"old": {"p":, "r":, "f":, "per_label": {...}}, "new": {...}} on the held-out articles.
    scores = models.JSONField()
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = someone()

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="one_active_model")]

    def __str__(self) -> str:
        return f"{self.name}-{self.version}"


class QualitySnapshot(models.Model):
    """The quality page's figures, computed in the background: aggregates, not annotations."""

    key = models.CharField(max_length=50, unique=True)
    figures = models.JSONField()
    # What the figures were computed from (latest history row, latest review): tells whether they are stale.
    fingerprint = models.CharField(max_length=100)
    computed_at = models.DateTimeField()
    refresh_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key

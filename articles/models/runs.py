"""What the app records of its runs: exports, trainings and the models they made, the quality page's cached figures."""

from django.db import models
from django.db.models import Q, Value
from django.utils.translation import gettext_lazy as _

from articles.models.fields import someone


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    JSONL = "jsonl", "JSONL"
    SPACY = "spacy", "spaCy DocBin"
    CONLL = "conll", "CoNLL (IOB2)"
    DOCCANO = "doccano", "doccano JSONL"


class Export(models.Model):
    """One export; the counts stay empty while it runs, and one never finished was interrupted."""

    Format = ExportFormat

    created_at = models.DateTimeField(auto_now_add=True)
    # Empty for the command line.
    created_by = someone()
    format = models.CharField(max_length=8, choices=Format)
    excel = models.BooleanField(default=False)
    # CoNLL as doccano reads it: tab-separated, no -DOCSTART- lines, an article a block.
    doccano = models.BooleanField(default=False, db_default=False)
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
    """A fine-tuned pipeline; the active one, if any, replaces ``settings.SPACY_MODEL``."""

    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField(unique=True)
    path = models.CharField(max_length=500)
    base = models.CharField(max_length=500, help_text="The pipeline it was fine-tuned from.")
    train_articles = models.PositiveIntegerField()
    dev_articles = models.PositiveIntegerField()
    # {"old": {"p":, "r":, "f":, "per_label": {...}}, "new": {...}} on the held-out articles.
    scores = models.JSONField()
    # What the saved model learnt from: {"articles": n, "spans": n, "per_label": {"PER": n, ...}}.
    learnt_from = models.JSONField(default=dict)
    # Spans per label of the held-out articles the scores come from.
    dev_spans = models.JSONField(default=dict)
    # Labels left out of training for having too few reviewed spans: {"EVENT": 4}.
    skipped_labels = models.JSONField(default=dict)
    active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = someone()

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="one_active_model")]

    def __str__(self) -> str:
        return f"{self.name}-{self.version}"


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    FINISHED = "finished", _("finished")
    FAILED = "failed", _("failed")


LIVE_TRAINING = [TrainingStatus.QUEUED, TrainingStatus.RUNNING]


class TrainingRun(models.Model):
    """One retraining. At most one is queued or running (PostgreSQL refuses a second); its progress
    is written in autocommit, so that the quality page sees each iteration as it ends."""

    Status = TrainingStatus
    LIVE = LIVE_TRAINING

    created_at = models.DateTimeField(auto_now_add=True)
    created_by = someone()
    status = models.CharField(max_length=10, choices=Status, default=Status.QUEUED)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written with each step: a running training whose heartbeat stops was killed with its process.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # {"phase": "...", "iteration": i, "iterations": n, "loss": x, "f": y, "curve": [[i, loss, f], ...]}
    progress = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    model = models.ForeignKey(TrainedModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=TrainingStatus.values), name="training_status_valid"),
            # The same constant for every live run: a second one is a duplicate.
            models.UniqueConstraint(Value(True), condition=Q(status__in=LIVE_TRAINING), name="one_training_at_a_time"),
        ]

    def __str__(self) -> str:
        return f"training of {self.created_at:%Y-%m-%d %H:%M}"


class QualitySnapshot(models.Model):
    """The quality page's figures, computed in the background."""

    key = models.CharField(max_length=50, unique=True)
    figures = models.JSONField()
    # What the figures were computed from (latest history row, latest review): tells whether they are stale.
    fingerprint = models.CharField(max_length=100)
    computed_at = models.DateTimeField()
    refresh_requested_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key

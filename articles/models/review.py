"""Team review: articles annotated by two editors independently, then adjudicated by a reviewer."""

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from articles.models.corpus import Article
from articles.models.fields import someone
from articles.models.spans import Span, SpanFields

SHARE_RANGE = Q(double_share__gte=0) & Q(double_share__lte=100)


class ReviewPolicy(models.Model):
    """The corpus's share of articles annotated by two editors, for batches that set none: one row."""

    double_share = models.PositiveSmallIntegerField(default=0, help_text="Per cent of articles, 0 to 100.")
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = someone()

    class Meta:
        verbose_name_plural = "review policy"
        constraints = [
            models.CheckConstraint(condition=SHARE_RANGE, name="reviewpolicy_share_percent"),
            models.CheckConstraint(condition=Q(id=1), name="reviewpolicy_one_row"),
        ]

    def __str__(self) -> str:
        return f"{self.double_share} % annotated twice"

    @classmethod
    def current(cls) -> "ReviewPolicy":
        return cls.objects.get_or_create(pk=1)[0]


class AnnotationQuerySet(models.QuerySet["Annotation"]):
    def finished(self) -> "AnnotationQuerySet":
        return self.filter(finished_at__isnull=False)

    def of(self, article: Article, user: User) -> "Annotation | None":
        """The user's version of the article, if they have one."""
        return self.filter(article=article, editor=user).first()

    def claim(self, article: Article, user: User) -> "Annotation | None":
        """The editor's version, else a free slot's, copied from the article's spans; None if two
        others have it. The unique slot settles two editors claiming the last one at once."""
        mine = self.of(article, user)
        if mine is not None:
            return mine
        taken = set(self.filter(article=article).values_list("slot", flat=True))
        for slot in (1, 2):
            if slot in taken:
                continue
            try:
                with transaction.atomic():
                    annotation = self.create(article=article, editor=user, slot=slot)
                    annotation.copy_spans()
                    # The first version taken starts the article's review.
                    type(article).objects.filter(pk=article.pk, status="pre_annotated").update(status="in_review")
                    return annotation
            except IntegrityError:
                continue  # another editor took this slot (or this editor got one) meanwhile
        return self.of(article, user)


class Annotation(models.Model):
    """One editor's own version of an article, made without seeing the other editor's."""

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="annotations")
    # PROTECT: the version names its author, as the history does.
    editor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    slot = models.PositiveSmallIntegerField(help_text="First or second editor: 1 or 2.")
    version = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = AnnotationQuerySet.as_manager()

    class Meta:
        ordering = ["article", "slot"]
        constraints = [
            models.CheckConstraint(condition=Q(slot__in=[1, 2]), name="annotation_slot_1_or_2"),
            models.CheckConstraint(condition=Q(version__gte=1), name="annotation_version_positive"),
            models.UniqueConstraint(fields=["article", "slot"], name="annotation_one_per_slot"),
            models.UniqueConstraint(fields=["article", "editor"], name="annotation_one_per_editor"),
        ]

    def __str__(self) -> str:
        return f"version {self.slot} of article {self.article_id}"

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def copy_spans(self) -> None:
        """The start of the editor's version: not a change, so no history."""
        fields = ["start", "end", "label_id", "origin", "model_name", "model_version", "created_by_id", "updated_by_id"]
        VersionSpan.objects.bulk_create(
            VersionSpan(annotation=self, article_id=self.article_id, **row)
            for row in Span.objects.filter(article_id=self.article_id).values(*fields)
        )


class VersionSpan(SpanFields):
    """A span of one editor's version of an article."""

    # Indexed by versionspan_annotation_start, which begins with it.
    annotation = models.ForeignKey(Annotation, on_delete=models.CASCADE, related_name="spans", db_index=False)
    article = models.ForeignKey(
        "articles.Article", on_delete=models.CASCADE, related_name="version_spans", db_index=False
    )
    label = models.ForeignKey("articles.Label", on_delete=models.PROTECT, related_name="versionspans")
    created_by = someone(db_index=False)
    updated_by = someone(db_index=False)

    class Meta:
        ordering = ["annotation", "start"]
        indexes = [
            models.Index(fields=["annotation", "start"], name="versionspan_annotation_start"),
            models.Index(fields=["article"], name="versionspan_article"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(start__lt=F("end")), name="versionspan_start_before_end"
            ),
            models.CheckConstraint(condition=Q(origin__in=SpanFields.Origin.values), name="versionspan_origin_valid"),
        ]


class DecisionChoice(models.TextChoices):
    FIRST = "1", _("first editor’s")
    SECOND = "2", _("second editor’s")
    EDITED = "edited", _("edited by the reviewer")


class Decision(models.Model):
    """How a reviewer settled one stretch where the versions differ: one side's spans, or their own."""

    Choice = DecisionChoice

    article = models.ForeignKey("articles.Article", on_delete=models.CASCADE, related_name="decisions")
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    choice = models.CharField(max_length=8, choices=Choice)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now=True)
    # The article's version its spans' change made: undoing that change takes the decision back too.
    article_version = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["article", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(start__lt=F("end")), name="decision_start_before_end"),
            models.CheckConstraint(condition=Q(choice__in=DecisionChoice.values), name="decision_choice_valid"),
            models.UniqueConstraint(fields=["article", "start", "end"], name="decision_one_per_place"),
        ]

    def __str__(self) -> str:
        return f"{self.start}:{self.end} → {self.choice}"

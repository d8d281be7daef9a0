"""Articles and what they come with: labels, import batches, search documents, reference highlights."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorField
from django.db import connection, models
from django.db.models import Exists, F, Func, Max, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from articles.models.fields import content_hash, someone, someone_index

# Short, so that an article abandoned in a closed tab soon goes back to the queue.
LEASE = timedelta(minutes=10)

# Spanish stemming: "elecciones" finds "elección". pg_trgm's index would be far larger over long bodies.
SEARCH_CONFIG = "spanish"


# Of a label created on the fly, until an admin picks one.
UNKNOWN_LABEL_COLOR = "#dddddd"


class LabelQuerySet(models.QuerySet["Label"]):
    def ensure(self, names: Iterable[str]) -> list[str]:
        """Creates the missing ones; returns their names."""
        existing = set(self.values_list("name", flat=True))
        order = self.aggregate(last=Max("order"))["last"] or 0
        missing = sorted(set(names) - existing)
        self.bulk_create(
            Label(name=name, color=UNKNOWN_LABEL_COLOR, order=order + i) for i, name in enumerate(missing, 1)
        )
        return missing

    def ids(self) -> dict[str, int]:
        return dict(self.values_list("name", "pk"))


class Label(models.Model):
    name = models.CharField(max_length=32, unique=True)
    description = models.CharField(max_length=200, blank=True)
    color = models.CharField(max_length=7, help_text="Background colour, #rrggbb.")
    hotkey = models.CharField(max_length=1, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    objects = LabelQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(color__regex=r"^#[0-9a-fA-F]{6}$"), name="label_color_hex"),
            models.CheckConstraint(condition=Q(name__regex=r"^\S+$"), name="label_name_no_space"),
            models.UniqueConstraint(fields=["hotkey"], condition=~Q(hotkey=""), name="label_hotkey_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ink(self) -> str:
        """Black or white, whichever reads better on the label's colour (WCAG contrast)."""
        return "#000000" if contrast(self.color, "#000000") >= contrast(self.color, "#ffffff") else "#ffffff"


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours, 1 to 21."""
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


class ImportBatchStatus(models.TextChoices):
    CHECKING = "checking", _("checking")
    CHECKED = "checked", _("ready to import")
    IMPORTING = "importing", _("importing")
    DONE = "done", _("imported")
    FAILED = "failed", _("refused")


class ImportBatch(models.Model):
    """One upload or run of import_articles: checked (the preview), then imported once confirmed."""

    Status = ImportBatchStatus

    name = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = someone()
    status = models.CharField(max_length=10, choices=Status, default=Status.DONE)
    # [{"name": original name, "size": bytes}], in upload order.
    files = models.JSONField(default=list, blank=True)
    encoding = models.CharField(max_length=40, blank=True, help_text="Empty: UTF-8, with or without BOM.")
    create_labels = models.BooleanField(default=False)
    preannotate = models.BooleanField(default=True)
    # Gold data: the articles arrive reviewed.
    reviewed = models.BooleanField(default=False)
    # Which of a Label Studio task's several annotations to import: empty (refuse such a task),
    # "first", or an annotator's id or email.
    annotation = models.CharField(max_length=254, blank=True, default="", db_default="")
    # Per cent annotated by two editors; empty: the corpus's (ReviewPolicy).
    double_share = models.PositiveSmallIntegerField(null=True, blank=True)
    preview = models.JSONField(null=True, blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    span_count = models.PositiveIntegerField(default=0)
    # Records the files mark as not to keep (Prodigy's "reject" and "ignore" answers).
    skipped_count = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "import batches"
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportBatchStatus.values), name="importbatch_status_valid"),
            models.CheckConstraint(condition=Q(double_share__lte=100), name="importbatch_share_percent"),
        ]

    def __str__(self) -> str:
        return self.name


class ArticleQuerySet(models.QuerySet["Article"]):
    def never_preannotated(self) -> "ArticleQuerySet":
        """Never pre-annotated nor failed: what ``preannotate --pending`` runs, whatever the import said."""
        return self.filter(status=Article.Status.NEW, preannotation_error="")

    def left_to_the_model(self) -> "ArticleQuerySet":
        """Not from an import that said ``--no-preannotate``."""
        return self.exclude(batch__preannotate=False)

    def pending_preannotation(self) -> "ArticleQuerySet":
        """What workers take by themselves: a batch's "no" holds for every later sweep."""
        return self.never_preannotated().left_to_the_model()

    def failed_preannotation(self) -> "ArticleQuerySet":
        return self.exclude(preannotation_error="")

    def preannotated_since(self, moment: datetime) -> "ArticleQuerySet":
        return self.filter(preannotated_at__gte=moment)

    def needs_review(self) -> "ArticleQuerySet":
        return self.filter(status__in=[Article.Status.PRE_ANNOTATED, Article.Status.IN_REVIEW])

    def for_queue(self) -> "ArticleQuerySet":
        """What a row of the queue shows: never the body."""
        return self.only(
            "title", "status", "updated_at", "updated_by__username", "leased_until", "leased_by__username"
        ).select_related("updated_by", "leased_by")

    def matching(self, text: str) -> "ArticleQuerySet":
        """A web-style query; an article whose search document is not built is matched on its text."""
        query = SearchQuery(text, config=SEARCH_CONFIG, search_type="websearch")
        # Inner join: built rows use the document index, pending ones their own partial index.
        return (
            self.filter(search__isnull=False)
            .alias(unbuilt=SearchVector("title", "body", config=SEARCH_CONFIG))
            .filter(Q(search__document=query) | Q(search__document__isnull=True, unbuilt=query))
        )

    def containing(self, text: str) -> "ArticleQuerySet":
        """Through the trigram index of the built body copies, or the body itself until it is built."""
        return self.filter(search__isnull=False).filter(
            Q(search__body__contains=text) | Q(search__document__isnull=True, body__contains=text)
        )

    def with_label(self, label: "Label") -> "ArticleQuerySet":
        from articles.models.spans import Span  # spans import this module, for Article

        return self.filter(Exists(Span.objects.filter(article=OuterRef("pk"), label=label)))

    def free_for(self, user: User) -> "ArticleQuerySet":
        """Articles no other editor holds a live lease on."""
        return self.filter(Q(leased_until__isnull=True) | Q(leased_until__lte=timezone.now()) | Q(leased_by=user))

    def awaiting_adjudication(self) -> "ArticleQuerySet":
        """Double-annotated articles whose two versions are finished, not reviewed yet."""
        from articles.models.review import Annotation  # review imports this module, for Article

        from_versions = Annotation.objects.finished().filter(article=OuterRef("pk"))
        return (
            self.filter(double=True)
            .exclude(status=Article.Status.REVIEWED)
            .filter(Exists(from_versions.filter(slot=1)), Exists(from_versions.filter(slot=2)))
        )

    def count_up_to(self, limit: int) -> int:
        """The exact count while it is below ``limit``: the cost stays bounded at any size."""
        return self.order_by().values("pk")[:limit].count()

    def seek(self, ordering: str, *, after: int | None = None, before: int | None = None) -> "ArticleQuerySet":
        """Keyset pagination after (or before) an article in ``ordering``, ties broken by id: the
        (field, id) index starts right at the anchor, whatever the page."""
        field = ordering.removeprefix("-")
        # Ascending ids come next when reading an ascending order forwards or a descending one backwards.
        upwards = ordering.startswith("-") == (before is not None)
        anchor = before if before is not None else after
        rows = self
        if anchor is not None:
            op = "gt" if upwards else "lt"
            if field == "id":
                rows = rows.filter(**{f"pk__{op}": anchor})
            else:
                value = models.Subquery(self.model._default_manager.filter(pk=anchor).values(field)[:1])
                # (field, id) > (value, anchor), spelt so that the (field, id) index bounds the scan.
                rows = rows.filter(
                    Q(**{f"{field}__{op}e": value}), Q(**{f"{field}__{op}": value}) | Q(**{f"pk__{op}": anchor})
                )
        sign = "" if upwards else "-"
        return rows.order_by(f"{sign}{field}", f"{sign}pk")


class ArticleStatus(models.TextChoices):
    NEW = "new", _("new")
    PRE_ANNOTATED = "pre_annotated", _("pre-annotated")
    IN_REVIEW = "in_review", _("in review")
    REVIEWED = "reviewed", _("reviewed")


class Article(models.Model):
    Status = ArticleStatus

    title = models.CharField(max_length=300)
    # STORAGE EXTERNAL (the migrations): reads slice an uncompressed body without inflating it whole.
    body = models.TextField()
    body_length = models.PositiveIntegerField(editable=False)
    # Unique by a constraint, not by ``unique=True``, which adds a second index for LIKE on hashes.
    content_hash = models.CharField(max_length=64, editable=False)
    source = models.CharField(max_length=500, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="articles")
    status = models.CharField(max_length=16, choices=Status, default=Status.NEW)
    # Why pre-annotation failed, until a retry succeeds; db_default lets SQL bulk loads omit it.
    preannotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    preannotation_error = models.TextField(blank=True, editable=False, default="", db_default="")
    # Optimistic concurrency: a change made on an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = someone()
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = someone()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = someone()
    # Whom "next article" gave it to, until when (queue.leases).
    leased_by = someone()
    leased_until = models.DateTimeField(null=True, blank=True)
    # In the double-annotation sample (models.review).
    double = models.BooleanField(default=False, db_default=False)
    # When and by whom adjudication began, and the version its copy made: undo never reaches behind it.
    adjudication_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    adjudication_started_by = someone(db_index=False)
    adjudication_version = models.PositiveIntegerField(null=True, blank=True, editable=False)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        permissions = [
            ("review_article", "Can correct spans and review articles"),
            ("import_articles", "Can upload and import articles"),
            ("export_spans", "Can export annotations"),
            ("view_quality", "Can see the model's quality figures and editors' effort"),
            ("train_model", "Can retrain the model from reviewed articles"),
            ("adjudicate_article", "Can settle two editors' versions of an article"),
        ]
        indexes = [
            models.Index(fields=["status", "id"], name="article_status_id"),
            # The queue's orderings, each with id as tie-breaker for seek pagination.
            models.Index(fields=["updated_at", "id"], name="article_updated_id"),
            models.Index(fields=["title", "id"], name="article_title_id"),
            models.Index(fields=["preannotated_at"], name="article_preannotated_at"),
            someone_index("adjudication_started_by", "article_adjudicator"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(body_length=Func(F("body"), function="char_length")), name="article_body_length"
            ),
            models.CheckConstraint(condition=Q(status__in=ArticleStatus.values), name="article_status_valid"),
            models.CheckConstraint(condition=Q(version__gte=1), name="article_version_positive"),
            models.UniqueConstraint(fields=["content_hash"], name="article_content_hash_unique"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, update_fields: Iterable[str] | None = None, **kwargs: Any) -> None:
        # A body never changes after import: only a save that writes it (the first) derives these.
        if update_fields is None or "body" in update_fields:
            self.body_length = len(self.body)
            self.content_hash = content_hash(self.body)
        super().save(*args, update_fields=update_fields, **kwargs)

    @property
    def lease_holder(self) -> User | None:
        """The editor who has the article open, while the lease lasts."""
        return self.leased_by if self.leased_until and self.leased_until > timezone.now() else None

    def open_by_other_than(self, user: User) -> bool:
        return bool(self.leased_until and self.leased_until > timezone.now() and self.leased_by_id != user.pk)

    def renew_lease(self, user: User) -> bool:
        """False if another editor holds it. A lease is not an edit: version and updated_at stay."""
        until = timezone.now() + LEASE
        renewed = Article.objects.filter(pk=self.pk).free_for(user).update(leased_by=user, leased_until=until)
        if renewed:
            self.leased_by, self.leased_until = user, until
        return bool(renewed)

    def release_lease(self, user: User | None = None) -> bool:
        """``user``'s lease on it, or anyone's when None."""
        leases = Article.objects.filter(pk=self.pk, leased_by__isnull=False)
        if user is not None:
            leases = leases.filter(leased_by=user)
        released = leases.update(leased_by=None, leased_until=None)
        if released:
            self.leased_by, self.leased_until = None, None
        return bool(released)


class ArticleSearchQuerySet(models.QuerySet["ArticleSearch"]):
    def pending(self) -> "ArticleSearchQuerySet":
        return self.filter(document__isnull=True)

    def build(self, limit: int) -> int:
        """Builds up to ``limit`` pending rows; workers skip one another's rows rather than wait."""
        with connection.cursor() as cursor:
            cursor.execute(BUILD_SEARCH, [limit])
            built: int = cursor.rowcount
            return built


# Title (weight A) and body (B), as migration 0006's trigger builds it.
BUILD_SEARCH = f"""
WITH todo AS (
    SELECT article_id FROM articles_articlesearch WHERE document IS NULL
    ORDER BY article_id LIMIT %s FOR UPDATE SKIP LOCKED
)
UPDATE articles_articlesearch s
SET document = setweight(to_tsvector('{SEARCH_CONFIG}', a.title), 'A')
               || setweight(to_tsvector('{SEARCH_CONFIG}', a.body), 'B'),
    body = a.body
FROM todo JOIN articles_article a ON a.id = todo.article_id
WHERE s.article_id = todo.article_id
"""  # noqa: S608 (SEARCH_CONFIG is this module's constant, not input)


class ArticleSearch(models.Model):
    """An article's full-text document and a trigram-indexed body copy, built by a worker after
    import; a table of its own so that span changes, which rewrite the article's row, never reindex
    the body (docs/data-model.md)."""

    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="search")
    document = SearchVectorField(null=True)
    body = models.TextField(null=True, editable=False)

    objects = ArticleSearchQuerySet.as_manager()

    class Meta:
        indexes = [
            # Both over built rows only: a pending row costs its article's import no index entry.
            GinIndex(fields=["document"], name="articlesearch_document", condition=Q(document__isnull=False)),
            GinIndex(
                OpClass(F("body"), name="gin_trgm_ops"), name="articlesearch_body_trgm", condition=Q(body__isnull=False)
            ),
            models.Index(fields=["article"], name="articlesearch_pending", condition=Q(document__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"search document of article {self.article_id}"


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

from collections.abc import Iterable
from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from articles.models import Article, ArticleQuerySet, ImportBatch, Label, ReferenceSpan, Span, SpanEvent
from articles.nlp.preannotation import retry_preannotation


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin[Label]):
    list_display = ["name", "description", "color", "hotkey", "order"]
    list_editable = ["order"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin[ImportBatch]):
    list_display = ["name", "status", "created_count", "duplicate_count", "span_count", "created_at", "created_by"]
    list_filter = ["status"]


class PreannotationFilter(admin.SimpleListFilter):
    title = "pre-annotation"
    parameter_name = "preannotation"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> Iterable[tuple[str, str]]:
        return [("waiting", "waiting"), ("failed", "failed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        articles = cast(ArticleQuerySet, queryset)  # a filter of ArticleAdmin's list only
        if self.value() == "waiting":
            return articles.pending_preannotation()
        if self.value() == "failed":
            return articles.failed_preannotation()
        return queryset


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin[Article]):
    list_display = ["id", "title", "status", "preannotation_error", "version", "updated_at", "updated_by"]
    list_filter = ["status", PreannotationFilter, "batch"]
    search_fields = ["title", "external_id"]
    # The body never changes after import; spans change only through the editing workspace.
    readonly_fields = [
        "body",
        "body_length",
        "content_hash",
        "version",
        "status",
        "preannotated_at",
        "preannotation_error",
        "reviewed_at",
        "reviewed_by",
    ]
    list_select_related = ["updated_by"]
    actions = ["retry_preannotation"]

    @admin.action(description="Retry pre-annotation of the failed ones", permissions=["change"])
    def retry_preannotation(self, request: HttpRequest, queryset: QuerySet[Article]) -> None:
        ids = retry_preannotation(queryset.values_list("pk", flat=True))
        self.message_user(
            request,
            f"{len(ids)} failed articles queued for pre-annotation again." if ids else "None of them had failed.",
            messages.SUCCESS if ids else messages.WARNING,
        )


class ReadOnlyAdmin[M: Model](admin.ModelAdmin[M]):
    """Shown, never written: spans change only through the verbs, and their history never changes."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(Span)
class SpanAdmin(ReadOnlyAdmin[Span]):
    list_display = ["id", "article_id", "start", "end", "label", "origin", "updated_by"]
    list_filter = ["origin", "label"]
    list_select_related = ["label", "updated_by"]


@admin.register(SpanEvent)
class SpanEventAdmin(ReadOnlyAdmin[SpanEvent]):
    list_display = ["at", "article_id", "span_id", "kind", "actor", "before_label", "after_label"]
    list_filter = ["kind"]
    list_select_related = ["actor"]


admin.site.register(ReferenceSpan)

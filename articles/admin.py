from django.contrib import admin

from articles.models import Article, ImportBatch, Label, ReferenceSpan, Span, SpanEvent


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "color", "hotkey", "order"]
    list_editable = ["order"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "created_count", "duplicate_count", "span_count", "created_at", "created_by"]
    list_filter = ["status"]


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["id", "title", "status", "version", "updated_at", "updated_by"]
    list_filter = ["status", "batch"]
    search_fields = ["title", "external_id"]
    # The body never changes after import; spans change only through the editing workspace.
    readonly_fields = ["body", "body_length", "content_hash", "version", "status", "reviewed_at", "reviewed_by"]
    list_select_related = ["updated_by"]


@admin.register(Span)
class SpanAdmin(admin.ModelAdmin):
    list_display = ["id", "article_id", "start", "end", "label", "origin", "updated_by"]
    list_filter = ["origin", "label"]
    list_select_related = ["label", "updated_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SpanEvent)
class SpanEventAdmin(admin.ModelAdmin):
    """The audit trail: readable, never editable."""

    list_display = ["at", "article_id", "span_id", "kind", "actor", "before_label", "after_label"]
    list_filter = ["kind"]
    list_select_related = ["actor"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.register(ReferenceSpan)

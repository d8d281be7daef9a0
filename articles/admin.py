import functools

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from articles.models import Article, ImportBatch, Label, ReferenceSpan, Span, SpanEvent


class AnnotatorAdminSite(admin.AdminSite):
    site_header = site_title = "Annotator admin"

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def refuse_non_admins(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.user.is_authenticated and not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return refuse_non_admins

    @login_not_required
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        # One sign-in page for the whole app. (Signed-in users without the admin role never get
        # here: admin_view refuses them with 403 instead of asking them to sign in again.)
        if request.user.is_authenticated:
            raise PermissionDenied
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))


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

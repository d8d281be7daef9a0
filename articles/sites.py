"""The admin site: Django's, behind the app's own sign-in and roles."""

import functools

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy


class AnnotatorAdminSite(admin.AdminSite):
    site_header = site_title = gettext_lazy("Annotator admin")

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

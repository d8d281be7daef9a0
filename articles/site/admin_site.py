"""The admin site: Django's, behind the app's own sign-in and roles."""

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.urls import URLPattern, URLResolver, reverse
from django.utils.translation import gettext_lazy


class AnnotatorAdminSite(admin.AdminSite):
    site_header = site_title = gettext_lazy("Annotator admin")

    def admin_view[V: Callable[..., HttpResponseBase]](self, view: V, cacheable: bool = False) -> V:
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def refuse_non_admins(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise PermissionDenied
            return inner(request, *args, **kwargs)

        return cast(V, refuse_non_admins)

    def get_urls(self) -> list[URLResolver | URLPattern]:
        urls = super().get_urls()
        # Without login_url, LoginRequiredMiddleware sends anonymous visitors to the app's sign-in page.
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback.__dict__.pop("login_url", None)
        return urls

    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # One sign-in page for the whole app; a signed-in non-admin gets 403, not another sign-in.
        if request.user.is_authenticated:
            if not self.has_permission(request):
                raise PermissionDenied
            return redirect("admin:index")
        return redirect_to_login(request.GET.get("next", reverse("admin:index")))

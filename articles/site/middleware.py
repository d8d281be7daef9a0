"""Sign-in for every page, no caching of signed-in pages, and per-request database timeouts."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _


class DatabaseTimeouts:
    """Bounds each request's lock waits and statements, so a change stuck behind another editor's
    fails with a 503 (``site.views.server_error``) instead of holding a worker. Commands are unbounded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.values = [f"{settings.REQUEST_LOCK_TIMEOUT}ms", f"{settings.REQUEST_STATEMENT_TIMEOUT}ms"]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, false), set_config('statement_timeout', %s, false)",
                    self.values,
                )
        except DatabaseError:
            pass  # unreachable: the view's own first query answers with the reason (503)
        return self.get_response(request)


class SignInRequired(LoginRequiredMiddleware):
    """LoginRequiredMiddleware, but an htmx request gets a 401 with the reason: a redirect would be
    followed in the background and the sign-in page swapped into the page."""

    # The stubs narrow the answer to the redirect Django's own makes; Django returns whatever it is.
    def handle_no_permission(  # type: ignore[override]
        self, request: HttpRequest, view_func: Callable[..., HttpResponseBase]
    ) -> HttpResponse:
        if request.headers.get("HX-Request") != "true":
            return super().handle_no_permission(request, view_func)
        message = _("You are signed out: sign in again in a new tab, then try again here. Nothing was changed.")
        return HttpResponse(
            message, status=401, content_type="text/plain; charset=utf-8", headers={"HX-Reswap": "none"}
        )


class PrivateToTheUser:
    """Answers to a signed-in user are private and not stored, so the back button after signing out
    on a shared computer shows nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response

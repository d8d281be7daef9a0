"""Sign-in for every page, with an answer an HTMX request can show; signed-in pages kept by no cache;
a bound on every request's waits for locks and on its statements."""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _


class DatabaseTimeouts:
    """Every request's connection waits at most REQUEST_LOCK_TIMEOUT ms for a row lock and runs no
    statement longer than REQUEST_STATEMENT_TIMEOUT ms: a change stuck behind another editor's, or a
    runaway query, fails with its reason (503, see ``site.views.server_error``) instead of holding a
    worker until the server kills it. Workers and commands (imports, training) are not bounded."""

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
    """Django's LoginRequiredMiddleware, except for a request made by htmx (a change in the
    workspace, a filter, a poll): a redirect would be followed in the background and the sign-in
    page swapped into the page. Such a request gets 401 with the reason instead, which the page
    shows and swaps nowhere."""

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
    """Every answer to a signed-in user, page or fragment, is theirs alone: no shared cache keeps it,
    and the browser stores none (the back button after signing out on a shared computer shows
    nothing). Static files never get here (whitenoise answers them first) and the anonymous sign-in
    page is left to cache."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response

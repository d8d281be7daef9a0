"""Sign-in for every page, with an answer an HTMX request can show."""

from collections.abc import Callable

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.translation import gettext as _


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

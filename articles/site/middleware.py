"""Sign-in for every page, with an answer an HTMX request can show; signed-in pages kept by no cache."""

from collections.abc import Callable

from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _


class SignInRequired(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, except for a request made by htmx (a change in the
    workspace, a filter, a poll): a redirect would be followed in the background and the sign-in
    page swapped into the page. Such a request gets 401 with the reason instead, which the page
    shows and swaps nowhere."""

    def handle_no_permission(self, request: HttpRequest, view_func) -> HttpResponse:
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

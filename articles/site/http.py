"""What every view shares: the request as django-htmx types it, and a plain-text 400."""

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request that reached a view which is not ``login_not_required``: SignInRequired sent every
    anonymous one to the sign-in page first."""

    user: User


def bad_request(message: str) -> HttpResponse:
    """A 400 whose body is the reason, as plain text."""
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

"""What every view shares: the request as django-htmx types it, and a plain-text 400."""

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def bad_request(message: str) -> HttpResponse:
    """A 400 whose body is the reason, as plain text."""
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

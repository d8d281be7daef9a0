"""What every view shares: the request as django-htmx types it, a plain-text 400, the client's address."""

import ipaddress

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a view that requires sign-in (SignInRequired turned anonymous ones away)."""

    user: User


def bad_request(message: str) -> HttpResponse:
    """A 400 whose body is the reason, as plain text."""
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def client_address(request: HttpRequest) -> str | None:
    """The client's address for the sign-in lockout: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT
    proxies the TRUSTED_PROXY_COUNT-th X-Forwarded-For entry from the right, since each proxy appends
    one; whatever a client wrote itself stands further left and is never read."""
    remote = request.META.get("REMOTE_ADDR")
    if not settings.TRUSTED_PROXY_COUNT:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if not forwarded:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-min(settings.TRUSTED_PROXY_COUNT, len(forwarded))]))
    except ValueError:
        return remote

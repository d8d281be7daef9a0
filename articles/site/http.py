"""What every view shares: the request as django-htmx types it, a plain-text 400, the client's address."""

import ipaddress

from django.conf import settings
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


def client_address(request: HttpRequest) -> str | None:
    """The address of the client, as the sign-in lockout counts it: REMOTE_ADDR, or behind
    TRUSTED_PROXY_COUNT proxies the address the outermost of them received the request from.

    Each proxy appends to X-Forwarded-For the address it received the request from, so that one is
    the TRUSTED_PROXY_COUNT-th from the right; whatever a client wrote itself stands further left
    and is never read. A header shorter than that (a proxy that did not append) gives its left-most
    entry; no header, or an entry that is not an address, gives REMOTE_ADDR.
    """
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

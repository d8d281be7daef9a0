"""Pages every part of the site shares: the health check, the 500/503 handler, the CSRF failure page."""

import sys

import psycopg
from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_htmx.http import reswap, retarget

from articles.site.http import HtmxHttpRequest


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


DATABASE_UNAVAILABLE = "The database is unavailable; try again in a moment."
DATABASE_BUSY = (
    "The server is busy with another change to the same data (or the request took too long): "
    "nothing was saved; try again in a moment."
)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unreachable database is a 503 with its reason, any other error Django's 500.

    A handler, not a middleware: the first query is usually the session middleware's, and only the
    handler sees errors raised there. Plain text: a template's context processors would query again.
    """
    error = sys.exception()
    if isinstance(error, OperationalError | InterfaceError):
        busy = isinstance(error.__cause__, psycopg.errors.LockNotAvailable | psycopg.errors.QueryCanceled)
        reason = DATABASE_BUSY if busy else DATABASE_UNAVAILABLE
        response = HttpResponse(reason, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
    return defaults.server_error(request)


def csrf_failure(request: HtmxHttpRequest, reason: str = "") -> HttpResponse:
    """Most often a sign-in in another tab rotated the token. An htmx change gets the message in
    ``#page-alert``, never an error page swapped into the article text."""
    if request.htmx:
        context = {"reload_url": request.htmx.current_url_abs_path or ""}
        response = render(request, "csrf_failure.html#message", context, status=403)
        return reswap(retarget(response, "#page-alert"), "innerHTML")
    # A plain form: back to the page it came from, if it came from this site.
    referer = request.headers.get("Referer", "")
    came_from_here = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    context = {"reload_url": referer if came_from_here else reverse("articles:list")}
    return render(request, "csrf_failure.html", context, status=403)

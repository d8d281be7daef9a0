from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from articles.ingest.views import upload_too_large


class UploadLimitMiddleware:
    """Refuses a request body over IMPORT_MAX_UPLOAD_BYTES before anything reads it.

    It stands before the CSRF check, which reads the body of every POST.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            size = int(request.headers.get("Content-Length") or 0)
        except ValueError:
            size = 0
        if size > settings.IMPORT_MAX_UPLOAD_BYTES:
            return upload_too_large(request, size)
        return self.get_response(request)

"""Why a change of spans is refused, and the one mapping from a refusal to an HTTP status."""

from django.core.exceptions import ValidationError


class Refusal(Exception):
    status = 400


class BadRequest(Refusal):
    """A field missing or malformed."""


class NotYours(Refusal):
    """The user may not change these spans at all (role, someone else's version, self-adjudication)."""

    status = 403


class NotNow(Refusal):
    """The article's state forbids the change now (a finished version, adjudication not begun, ...)."""

    status = 409


class Gone(Refusal):
    status = 404


def status_of(error: Exception) -> int:
    """The HTTP status of a refusal; a ValidationError (bad offsets, unknown label, overlap) is 422."""
    if isinstance(error, Refusal):
        return error.status
    if isinstance(error, ValidationError):
        return 422
    raise TypeError(f"{type(error).__name__} is not a refusal")


def message_of(error: Exception) -> str:
    return " ".join(error.messages) if isinstance(error, ValidationError) else str(error)

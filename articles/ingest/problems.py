"""What refuses an import: readers raise Bad with the reason, and turn it into a Problem with the place."""

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Problem:
    """Why a file, or one line or row of it, cannot be imported."""

    file: str
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}, {self.where}: {self.reason}" if self.where else f"{self.file}: {self.reason}"


class Bad(Exception):
    """A reason, raised while reading."""


def unreadable(error: Exception) -> str:
    """Why a record that broke its reader is refused, in words a user can act on."""
    if isinstance(error, RecursionError):
        return _("nested too deeply to be read")
    if isinstance(error, UnicodeError):
        return _("text that is not valid Unicode (%(error)s)") % {"error": error}
    return _("could not be read (%(error)s)") % {"error": f"{type(error).__name__}: {error}"}

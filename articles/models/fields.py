"""Columns and helpers every table shares: who did something, the content hash, half-open ranges."""

import hashlib

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.postgres.fields import IntegerRangeField
from django.db import models
from django.db.models import Func, Q
from django.db.models.expressions import Combinable


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def someone(
    db_index: bool = True, db_constraint: bool = True
) -> "models.ForeignKey[User | Combinable | None, User | None]":
    """Who did something; emptied when the user is deleted.

    ``db_index=False`` where most rows have nobody: ``someone_index`` indexes the others.
    ``db_constraint=False`` where a trigger checks a whole statement's users, not a key row by row.
    """
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=db_index,
        db_constraint=db_constraint,
    )


def someone_index(field: str, name: str) -> models.Index:
    """A partial index: finds a user's rows without an entry per row of nobody's."""
    return models.Index(fields=[field], condition=Q(**{f"{field}__isnull": False}), name=name)


class IntRange(Func):
    """``int4range(start, end)``, half-open like a slice; the first migration's constraint names it."""

    function = "int4range"
    output_field = IntegerRangeField()

"""Where a change lands: the article's own spans or an editor's version, locked and versioned alike.

A verb first locks the row carrying the version it checks, so two concurrent changes cannot both
pass the check. The two versions of one article are separate rows: their editors never wait.
"""

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypedDict, Unpack

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.editing import gate
from articles.editing.refusals import NotNow
from articles.models import LEASE, Annotation, Article, Label, Span, SpanEvent, SpanQuerySet, VersionSpan

Kind = SpanEvent.Kind

type AnySpan = Span | VersionSpan


class SpanColumns(TypedDict, total=False):
    """A new span's columns besides where it is kept."""

    pk: int
    start: int
    end: int
    label: Label
    origin: str
    created_by: User | None
    updated_by: User | None


class StaleVersion(NotNow):
    """The editor worked on an older version than the one stored."""

    def __init__(self, scope: "Scope") -> None:
        self.scope = scope
        if scope.annotation is not None:
            message = _(
                "Your version of this article was changed in another tab (now version %(version)s); "
                "your change was not saved."
            ) % {"version": scope.version}
        else:
            article = scope.article
            who = article.updated_by.get_username() if article.updated_by else _("the model")
            message = _("This article was changed by %(who)s (now version %(version)s); your change was not saved.") % {
                "who": who,
                "version": article.version,
            }
        super().__init__(message)


class Overlaps(ValidationError):
    """A span would overlap others: refused, and the editor may replace them with it instead."""

    def __init__(self, message: str, start: int, end: int) -> None:
        super().__init__(message)
        self.start, self.end = start, end


@dataclass
class Scope:
    article: Article
    annotation: Annotation | None = None

    @property
    def model(self) -> type[Span] | type[VersionSpan]:
        return Span if self.annotation is None else VersionSpan

    @property
    def spans(self) -> SpanQuerySet[Span] | SpanQuerySet[VersionSpan]:
        return self.article.spans.all() if self.annotation is None else self.annotation.spans.all()

    @property
    def events(self) -> QuerySet[SpanEvent]:
        return self.article.events.filter(annotation=self.annotation)

    @property
    def version(self) -> int:
        return self.article.version if self.annotation is None else self.annotation.version

    def new_span(self, **columns: Unpack[SpanColumns]) -> AnySpan:
        if self.annotation is not None:
            return VersionSpan(annotation=self.annotation, article=self.article, **columns)
        return Span(article=self.article, **columns)

    def event(
        self,
        span: AnySpan,
        kind: str,
        user: User | None,
        before: AnySpan | None = None,
        *,
        undoes: SpanEvent | None = None,
    ) -> SpanEvent:
        """The history row of a change, at the version the change gives its scope."""
        after = None if kind == Kind.DELETED else span
        return SpanEvent(
            article=self.article,
            annotation=self.annotation,
            span_id=span.pk,
            kind=kind,
            origin=span.origin,
            actor=user,
            article_version=self.version + 1,
            before_start=before.start if before else None,
            before_end=before.end if before else None,
            before_label=before.label.name if before else "",
            after_start=after.start if after else None,
            after_end=after.end if after else None,
            after_label=after.label.name if after else "",
            undoes=undoes,
        )

    def bump(self, user: User | None) -> None:
        if self.annotation is not None:
            self.annotation.version += 1
            self.annotation.save(update_fields=["version", "updated_at"])
            return
        article = self.article
        article.version += 1
        article.updated_by = user
        fields = ["version", "updated_by", "updated_at"]
        # The first change of a pre-annotated article starts its review (opening it changes nothing).
        if user is not None and article.status == Article.Status.PRE_ANNOTATED:
            article.status = Article.Status.IN_REVIEW
            fields.append("status")
        # An editor working on the article keeps it (or takes it, when no one else has it open).
        if user is not None and not article.open_by_other_than(user):
            article.leased_by, article.leased_until = user, timezone.now() + LEASE
            fields += ["leased_by", "leased_until"]
        article.save(update_fields=fields)

    def check_bounds(self, start: int, end: int, *, ignore: int | None = None) -> None:
        """Friendly messages for what the database would refuse anyway."""
        if not 0 <= start < end:
            raise ValidationError(
                _("A span needs 0 <= start < end; got start=%(start)s, end=%(end)s.") % {"start": start, "end": end}
            )
        if end > self.article.body_length:
            raise ValidationError(
                _("A span must end inside the text (%(length)s characters); got end=%(end)s.")
                % {"length": self.article.body_length, "end": end}
            )
        clashes = self.spans.filter(start__lt=end, end__gt=start)
        if ignore is not None:
            clashes = clashes.exclude(pk=ignore)
        clash = clashes.select_related("label").first()
        if clash:
            body = self.article.body
            raise Overlaps(
                _(
                    "“%(text)s” overlaps the %(label)s span “%(other)s” (%(start)s–%(end)s); "
                    "delete or resize that one first."
                )
                % {
                    "text": body[start:end],
                    "label": clash.label.name,
                    "other": body[clash.start : clash.end],
                    "start": clash.start,
                    "end": clash.end,
                },
                start,
                end,
            )


def lock(
    where: Article | Annotation,
    version: int | None,
    user: User | None,
    *,
    adjudicating: bool = False,
) -> Scope:
    """The scope of ``where`` (only its id is read), locked, once the gate lets ``user`` change it.
    ``adjudicating``: the caller already asked ``gate.check_adjudicator``.

    FOR NO KEY UPDATE serialises changes to these spans yet lets others insert rows referring to it
    (their foreign-key check takes KEY SHARE, which FOR UPDATE blocks). The gate is asked under the
    lock, so a version finished or an adjudication begun meanwhile counts.
    """
    if isinstance(where, Annotation):
        annotation = (
            Annotation.objects.select_for_update(of=("self",), no_key=True).select_related("article").get(pk=where.pk)
        )
        scope = Scope(annotation.article, annotation)
    else:
        locked = Article.objects.select_for_update(of=("self",), no_key=True).select_related("updated_by")
        scope = Scope(locked.get(pk=where.pk))
    if not adjudicating:
        gate.check(scope.article, scope.annotation, user)
    if version is not None and version != scope.version:
        raise StaleVersion(scope)
    return scope


def stored_span(scope: Scope, pk: int) -> AnySpan:
    """Span ``pk`` as the scope holds it now; ValidationError if it holds none."""
    try:
        span = scope.spans.select_related("label").get(pk=pk)
    except scope.model.DoesNotExist:
        raise ValidationError(
            _("Span %(span)s is not part of article %(article)s (it may have been deleted).")
            % {"span": pk, "article": scope.article.pk}
        ) from None
    span.article = scope.article
    return span


def locked_span(span: AnySpan, version: int | None, user: User | None) -> tuple[Scope, AnySpan]:
    where = Annotation(pk=span.annotation_id) if isinstance(span, VersionSpan) else Article(pk=span.article_id)
    scope = lock(where, version, user)
    return scope, stored_span(scope, span.pk)


# A span read in bulk, as plain values: (pk, start, end, label id, origin, updated_by id).
type Row = tuple[int, int, int, int, str, int | None]
ROW_FIELDS = ("pk", "start", "end", "label_id", "origin", "updated_by_id")


def untouched_model_output(row: Row) -> bool:
    return row[4] == Span.Origin.MODEL and row[5] is None


def clashing(rows: Sequence[Row], start: int, end: int) -> list[Row]:
    """The rows that overlap start:end, found by bisection: rows are in text order and apart from one
    another, so they are the run that ends with the last one starting before ``end``."""
    i, found = bisect.bisect_left(rows, end, key=lambda row: row[1]), []
    while i > 0 and rows[i - 1][2] > start:
        i -= 1
        found.append(rows[i])
    return found


def relabels(clashes: Sequence[Row], start: int, end: int, label_id: int) -> bool:
    """Whether labelling start:end changes nothing but the label of the one span there: untouched model
    output of exactly that place, with another label."""
    return (
        len(clashes) == 1
        and clashes[0][1:3] == (start, end)
        and untouched_model_output(clashes[0])
        and clashes[0][3] != label_id
    )


def label(name: str) -> Label:
    try:
        return Label.objects.get(name=name)
    except Label.DoesNotExist:
        raise ValidationError(_("Unknown label %(name)r.") % {"name": name}) from None


def copy(span: AnySpan) -> AnySpan:
    """The span as it is now, detached: the "before" of a change."""
    return type(span)(pk=span.pk, start=span.start, end=span.end, label=span.label, origin=span.origin)

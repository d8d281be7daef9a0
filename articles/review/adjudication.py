"""Adjudication, as named verbs: a reviewer settles two finished versions into the article's spans
(docs/review.md#adjudication)."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from articles.editing import gate, verbs
from articles.editing.scope import Kind, Scope, copy, lock
from articles.models import Annotation, Article, Decision, Label, Span
from articles.review.disagreements import Disagreement, Side, compare, sides


@dataclass
class Versions:
    """An article's two finished versions, what they agree on, where they differ, and what is decided."""

    article: Article
    first: Annotation
    second: Annotation
    agreed: list[Side]
    disagreements: list[Disagreement]
    decisions: dict[tuple[int, int], Decision]

    @property
    def unsettled(self) -> list[Disagreement]:
        return [d for d in self.disagreements if (d.start, d.end) not in self.decisions]


def versions(article: Article) -> Versions:
    """The two versions compared; refused unless both are finished."""
    pair = list(Annotation.objects.filter(article=article).select_related("editor").order_by("slot"))
    if len(pair) != 2 or not all(a.finished for a in pair):
        raise ValidationError(_("Both editors must finish their versions of this article before it is adjudicated."))
    agreed, disagreements = compare(sides(pair[0]), sides(pair[1]))
    decisions = {(d.start, d.end): d for d in article.decisions.all()}
    return Versions(article, pair[0], pair[1], agreed, disagreements, decisions)


def _replace(scope: Scope, start: int, end: int, wanted: list[Side], user: User) -> None:
    """The article's spans between start and end become ``wanted``, each change in the history."""
    labels = {label.name: label for label in Label.objects.all()}
    for span in scope.spans.filter(start__lt=end, end__gt=start).select_related("label"):
        scope.event(span, Kind.DELETED, user, copy(span)).save()
        span.delete()
    for side in wanted:
        span = scope.new_span(
            start=side.start,
            end=side.end,
            label=labels[side.label],
            origin=Span.Origin.EDITOR,
            created_by=user,
            updated_by=user,
        )
        span.save()
        scope.event(span, Kind.CREATED, user).save()


def _begin(scope: Scope, found: Versions, user: User) -> None:
    """The article's spans become what both versions agree on: one change, recorded on the article
    with the version it makes, which undo never reaches behind."""
    article = scope.article
    if article.adjudication_started_at is not None:
        return
    _replace(scope, 0, article.body_length, found.agreed, user)
    scope.bump(user)
    article.adjudication_started_at, article.adjudication_started_by = timezone.now(), user
    article.adjudication_version = article.version
    article.save(update_fields=["adjudication_started_at", "adjudication_started_by", "adjudication_version"])


def _locked(article: Article, version: int | None, user: User) -> tuple[Scope, Versions]:
    gate.check_adjudicator(article, user)
    scope = lock(article, version, user, adjudicating=True)
    return scope, versions(scope.article)


@transaction.atomic
def take_side(article: Article, start: int, end: int, side: str, user: User, *, version: int | None = None) -> Decision:
    """The spans at start:end become ``side`` "1"'s or "2"'s, or are left to edit by hand ("edited")."""
    scope, found = _locked(article, version, user)
    disagreement = next((d for d in found.disagreements if (d.start, d.end) == (start, end)), None)
    if disagreement is None:
        raise ValidationError(_("There is no disagreement at %(start)s–%(end)s.") % {"start": start, "end": end})
    if side not in Decision.Choice.values:
        raise ValidationError(_("Take side 1 or 2, or edit by hand; got “%(side)s”.") % {"side": side[:20]})
    _begin(scope, found, user)
    if side != Decision.Choice.EDITED:
        _replace(scope, start, end, disagreement.first if side == "1" else disagreement.second, user)
    decision, _created = Decision.objects.update_or_create(
        article=scope.article,
        start=start,
        end=end,
        defaults={"choice": side, "decided_by": user, "article_version": scope.version + 1},
    )
    scope.bump(user)
    return decision


def finish(article: Article, user: User, *, version: int | None = None) -> Article:
    """The article is reviewed, its spans the adjudicated ones; refused while a disagreement is open."""
    with transaction.atomic():
        scope, found = _locked(article, version, user)
        _begin(scope, found, user)  # two versions that agree throughout have nothing to decide
        open_ones = found.unsettled
        if open_ones:
            raise ValidationError(
                ngettext(
                    "%(count)s disagreement is not settled yet.",
                    "%(count)s disagreements are not settled yet.",
                    len(open_ones),
                )
                % {"count": len(open_ones)}
            )
        return verbs.mark_reviewed(article, user, version=scope.version, adjudicated=True)

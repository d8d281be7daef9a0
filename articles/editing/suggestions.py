"""Accepting or dismissing a suggestion, through the gate like any change of the article."""

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.editing import gate
from articles.editing.refusals import NotNow
from articles.editing.scope import AnySpan, Scope, lock
from articles.editing.verbs import create_span, relabel_span
from articles.models import Article, Suggestion


def _locked(suggestion: Suggestion, version: int | None, user: User) -> tuple[Scope, Suggestion]:
    scope = lock(Article(pk=suggestion.article_id), version, user)
    if not gate.suggestions_allowed(scope.article):
        raise NotNow(_("This article takes no suggestions: it is reviewed, or annotated twice."))
    try:
        found = (
            Suggestion.objects.select_for_update()
            .select_related("label")
            .get(pk=suggestion.pk, article_id=scope.article.pk, status=Suggestion.Status.PENDING)
        )
    except Suggestion.DoesNotExist:
        raise ValidationError(_("That suggestion was already accepted or dismissed.")) from None
    return scope, found


def _decide(suggestion: Suggestion, status: str, user: User) -> None:
    suggestion.status = status
    suggestion.decided_by, suggestion.decided_at = user, timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])


@transaction.atomic
def accept_suggestion(suggestion: Suggestion, user: User, *, version: int | None) -> AnySpan:
    """A span, or the model span at its place relabelled."""
    scope, suggestion = _locked(suggestion, version, user)
    model_span = scope.spans.untouched_model_output().filter(start=suggestion.start, end=suggestion.end).first()
    if model_span is not None:
        span = relabel_span(model_span, suggestion.label.name, user)
    else:
        span = create_span(scope.article, suggestion.start, suggestion.end, suggestion.label.name, user)
    _decide(suggestion, Suggestion.Status.ACCEPTED, user)
    return span


@transaction.atomic
def dismiss_suggestion(suggestion: Suggestion, user: User) -> Suggestion:
    """Dismissed suggestions stay, so the same text is never offered at that place again."""
    _scope, suggestion = _locked(suggestion, None, user)
    _decide(suggestion, Suggestion.Status.DISMISSED, user)
    return suggestion

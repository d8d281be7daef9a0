"""Suggestions decided: accepting one makes it a span (or relabels the model's span at its place);
dismissing one keeps it, so the same text is never offered at that place again."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.models import Article, Span, Suggestion
from articles.workspace.scope import lock
from articles.workspace.verbs import create_span, relabel_span


def _locked_suggestion(suggestion: Suggestion) -> Suggestion:
    try:
        return (
            Suggestion.objects.select_for_update()
            .select_related("label")
            .get(pk=suggestion.pk, status=Suggestion.Status.PENDING)
        )
    except Suggestion.DoesNotExist:
        raise ValidationError(_("That suggestion was already accepted or dismissed.")) from None


@transaction.atomic
def accept_suggestion(suggestion: Suggestion, user: AbstractBaseUser, *, version: int | None = None) -> Span:
    """Turns the suggestion into a span (or relabels the model span at its place)."""
    article = lock(Article(pk=suggestion.article_id), version).article
    suggestion = _locked_suggestion(suggestion)
    model_span = article.spans.untouched_model_output().filter(start=suggestion.start, end=suggestion.end).first()
    if model_span is not None:
        span = relabel_span(model_span, suggestion.label.name, user)
    else:
        span = create_span(article, suggestion.start, suggestion.end, suggestion.label.name, user)
    suggestion.status = Suggestion.Status.ACCEPTED
    suggestion.decided_by, suggestion.decided_at = user, timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
    return span


@transaction.atomic
def dismiss_suggestion(suggestion: Suggestion, user: AbstractBaseUser) -> Suggestion:
    """Dismissed suggestions stay, so the same text is never offered at that place again."""
    suggestion = _locked_suggestion(suggestion)
    suggestion.status = Suggestion.Status.DISMISSED
    suggestion.decided_by, suggestion.decided_at = user, timezone.now()
    suggestion.save(update_fields=["status", "decided_by", "decided_at"])
    return suggestion

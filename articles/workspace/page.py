"""What the workspace page shows of an article: its text cut at its spans, the entity list, the
suggestions; the context of ``articles/detail.html`` and its partials."""

from typing import NamedTuple

from articles.models import Article, Label, Span, Suggestion


class Mark(NamedTuple):
    """What the page shows of a span; plain tuples, as a long article has thousands."""

    pk: int
    start: int
    end: int
    label: Label
    origin: str
    proposed: bool  # untouched model output, not yet confirmed by an editor
    text: str


def workspace_context(article: Article, **extra) -> dict:
    labels = list(Label.objects.all())
    by_pk = {label.pk: label for label in labels}
    body = article.body
    spans = [
        Mark(pk, start, end, by_pk[label_id], origin, origin == Span.Origin.MODEL and editor is None, body[start:end])
        for pk, start, end, label_id, origin, editor in article.spans.order_by("start").values_list(
            "pk", "start", "end", "label_id", "origin", "updated_by_id"
        )
    ]
    by_label: dict[int, list[Mark]] = {}
    for span in spans:
        by_label.setdefault(span.label.pk, []).append(span)
    return {
        "article": article,
        "spans": spans,
        "labels": labels,
        "entities": [(label, by_label[label.pk]) for label in labels if label.pk in by_label],
        **extra,
    }


def pending_suggestions(article: Article) -> list[Suggestion]:
    """The context of ``articles/_suggestions.html`` (one query: the article is the one at hand)."""
    suggestions = list(article.suggestions.pending().select_related("label"))
    for suggestion in suggestions:
        suggestion.article = article
    return suggestions

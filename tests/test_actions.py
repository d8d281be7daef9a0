"""The verbs that change spans: friendly refusals, history, versions."""

import pytest
from django.core.exceptions import ValidationError

from articles.editing import verbs
from articles.models import Span, SpanEvent
from tests.conftest import span_texts

pytestmark = pytest.mark.django_db

BODY = "Vladimir Putin recibió a Kim Jong Un en Moscú."


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (5, 5, "A span needs 0 <= start < end; got start=5, end=5."),
        (9, 3, "A span needs 0 <= start < end; got start=9, end=3."),
        (-1, 3, "A span needs 0 <= start < end; got start=-1, end=3."),
        (40, 99, "A span must end inside the text (46 characters); got end=99."),
        (9, 22, "“Putin recibió” overlaps the PER span “Vladimir Putin” (0–14); delete or resize that one first."),
    ],
)
def test_create_span_refuses_bad_offsets_with_a_clear_message(make_article, editor, start, end, message):
    article = make_article(BODY, spans=[(0, 14, "PER")])
    with pytest.raises(ValidationError) as error:
        verbs.create_span(article, start, end, "LOC", editor)
    assert error.value.messages == [message]
    assert span_texts(article) == [("Vladimir Putin", "PER", "model")]


def test_create_span_refuses_an_unknown_label(make_article, editor):
    article = make_article(BODY)
    with pytest.raises(ValidationError, match="Unknown label 'PERSON'"):
        verbs.create_span(article, 0, 14, "PERSON", editor)
    assert not Span.objects.exists()


def test_every_change_is_recorded_with_who_and_what(make_article, editor):
    article = make_article(BODY, spans=[(0, 14, "PER"), (40, 45, "ORG")])
    moscow = article.spans.get(start=40)
    created = verbs.create_span(article, 25, 36, "PER", editor)
    verbs.relabel_span(moscow, "LOC", editor)
    verbs.resize_span(created, 25, 28, editor)
    verbs.accept_span(article.spans.get(start=0), editor)
    verbs.delete_span(created, editor)
    events = SpanEvent.objects.filter(actor=editor).order_by("id")
    assert [
        (e.kind, e.before_start, e.before_end, e.before_label, e.after_start, e.after_end, e.after_label)
        for e in events
    ] == [
        ("created", None, None, "", 25, 36, "PER"),
        ("relabelled", 40, 45, "ORG", 40, 45, "LOC"),
        ("resized", 25, 36, "PER", 25, 28, "PER"),
        ("accepted", 0, 14, "PER", 0, 14, "PER"),
        ("deleted", 25, 28, "PER", None, None, ""),
    ]
    article.refresh_from_db()
    assert article.version == 2 + 5  # created, pre-annotated, five changes
    assert [e.article_version for e in events] == [3, 4, 5, 6, 7]


def test_a_change_on_a_stale_version_is_refused_and_names_who_changed_it(make_article, editor, other_editor):
    article = make_article(BODY, spans=[(0, 14, "PER")])
    seen = article.version
    verbs.create_span(article, 40, 45, "LOC", other_editor, version=seen)
    with pytest.raises(verbs.StaleVersion, match=r"changed by erin \(now version 3\); your change was not saved"):
        verbs.create_span(article, 25, 36, "PER", editor, version=seen)
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Moscú", "LOC", "editor")]


def test_undo_walks_back_this_editors_changes_only(make_article, editor, other_editor):
    article = make_article(BODY, spans=[(0, 14, "PER"), (40, 45, "ORG")])
    verbs.relabel_span(article.spans.get(start=40), "LOC", editor)
    verbs.delete_span(article.spans.get(start=0), editor)
    verbs.create_span(article, 25, 36, "PER", other_editor)
    verbs.undo(article, editor)
    assert span_texts(article) == [
        ("Vladimir Putin", "PER", "model"),
        ("Kim Jong Un", "PER", "editor"),
        ("Moscú", "LOC", "model"),
    ]
    verbs.undo(article, editor)
    assert span_texts(article)[2] == ("Moscú", "ORG", "model")
    # Back as the model proposed them: untouched model output again.
    assert article.spans.untouched_model_output().count() == 2
    assert verbs.undo(article, editor) == []

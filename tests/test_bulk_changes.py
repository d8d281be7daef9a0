"""Bulk changes are bounded: "label everywhere" refuses a text too common, "accept all" confirms a
bounded number per request, and every request waits a bounded time for a lock and a statement."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client

from articles.editing import verbs
from articles.models import Article, SpanEvent
from articles.site.views import DATABASE_BUSY
from tests.conftest import WAIT, in_thread, post_as_page, span_texts

pytestmark = pytest.mark.django_db


def test_label_everywhere_refuses_a_text_beyond_its_cap_and_changes_nothing(make_article, editor, monkeypatch):
    monkeypatch.setattr(verbs, "EVERYWHERE_MAX", 3)
    article = make_article("de " * 5 + "Madrid.")
    span = verbs.create_span(article, 0, 2, "MISC", editor)
    article.refresh_from_db()
    before = (span_texts(article), article.version, SpanEvent.objects.count())
    with pytest.raises(ValidationError, match="“de” occurs more than 3 times in this article"):
        verbs.label_all_occurrences(span, editor, version=article.version)
    article.refresh_from_db()
    assert (span_texts(article), article.version, SpanEvent.objects.count()) == before


def test_label_everywhere_at_its_cap_labels_every_free_place(make_article, editor, monkeypatch):
    monkeypatch.setattr(verbs, "EVERYWHERE_MAX", 5)
    article = make_article("Kim, Kim y Kim. Kimberly no. Kim habló con Kim.", spans=[(16, 24, "PER")])
    span = verbs.create_span(article, 0, 3, "PER", editor)
    added = verbs.label_all_occurrences(span, editor)
    assert len(added) == 4
    assert [text for text, label, _ in span_texts(article)] == ["Kim", "Kim", "Kim", "Kimberly", "Kim", "Kim"]


def test_accept_all_confirms_a_bounded_number_in_text_order_and_says_what_is_left(
    make_article, editor, as_editor, monkeypatch
):
    monkeypatch.setattr(verbs, "ACCEPT_ALL_MAX", 2)
    article = make_article(
        "Ana, Luis, Eva y Tom.", spans=[(0, 3, "PER"), (5, 9, "PER"), (11, 14, "PER"), (17, 20, "PER")]
    )
    response = post_as_page(
        as_editor, f"/articles/{article.pk}/spans/accept", {"version": article.version}, HTTP_HX_REQUEST="true"
    )
    assert "Accepted 2 entities of the model. 2 more are left: accept all again for them." in response.content.decode()
    confirmed = [s.text for s in article.spans.select_related("article") if s.updated_by_id]
    assert confirmed == ["Ana", "Luis"]


def test_every_request_runs_with_bounded_waits(as_editor):
    as_editor.get("/articles/")
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lock_timeout'), current_setting('statement_timeout')")
        assert cursor.fetchone() == ("3s", "20s")


@pytest.mark.django_db(transaction=True)
def test_a_change_that_waits_too_long_for_a_lock_is_refused_busy_and_saves_nothing(make_article, editor, settings):
    settings.REQUEST_LOCK_TIMEOUT = 200
    article = make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")])
    span = article.spans.get()
    held, done = threading.Event(), threading.Event()

    def hold() -> None:  # another change, holding the article's lock
        with transaction.atomic():
            Article.objects.select_for_update().get(pk=article.pk)
            held.set()
            done.wait(WAIT)

    holder = in_thread(hold)
    assert held.wait(WAIT)
    client = Client(raise_request_exception=False)
    client.force_login(editor)
    try:
        response = client.post(
            f"/articles/{article.pk}/spans/{span.pk}/label", {"label": "LOC", "version": article.version}
        )
    finally:
        done.set()
        holder.join(WAIT)
    assert (response.status_code, response.content.decode()) == (503, DATABASE_BUSY)
    assert span_texts(article) == [("Putin", "PER", "model")]

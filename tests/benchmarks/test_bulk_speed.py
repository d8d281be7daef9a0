"""Bulk changes on a very long article: "label everywhere" and "accept all" answer within 2 s (or are
refused at once), and another editor's change on the same article waits under a second behind them.

The article: 980,000 characters, the name "Kim" 49,000 times, 49,000 untouched model spans.
Run with ``make bench``; figures are printed and quoted in docs/benchmarks.md ("Bulk changes").
"""

import re
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from articles.editing import verbs
from articles.editing.scope import lock
from articles.models import Article, Span
from tests.conftest import WAIT, in_thread

pytestmark = pytest.mark.django_db(transaction=True)

SENTENCE = "Kim habló con Ana. "  # 19 characters
REPEATS = 49_000
TARGET = 2.0  # seconds for one bulk change, answered or refused
WAIT_TARGET = 1.0  # seconds another editor's change may wait behind it


@pytest.fixture
def long_article(make_article, editor) -> Article:
    body = SENTENCE * REPEATS + "Fin de la crónica de Pekín."
    # Every "Ana" is the model's span: 49,000 untouched spans for "accept all".
    spans = [(i * len(SENTENCE) + 14, i * len(SENTENCE) + 17, "PER") for i in range(REPEATS)]
    article = make_article(body, spans=spans, title="Crónica larga")
    print(f"\nThe article: {len(body):,} characters, {len(spans):,} model spans.")
    return article


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    try:
        result = call()
    except ValidationError as refusal:
        result = refusal
    return time.perf_counter() - start, result


def test_label_everywhere_on_49_000_occurrences_is_refused_at_once(long_article, editor):
    kim = verbs.create_span(long_article, 0, 3, "PER", editor)
    seconds, result = timed(lambda: verbs.label_all_occurrences(kim, editor))
    print(f"label everywhere, 49,000 occurrences: {seconds * 1000:.0f} ms, {result}")
    assert isinstance(result, ValidationError) and "occurs more than" in result.messages[0]
    assert seconds < TARGET


def test_accept_all_and_a_full_label_everywhere_while_another_editor_changes_the_article(
    long_article, editor, other_editor, monkeypatch
):
    """ "Accept all" confirms its cap, 1,000 spans, of 49,000; a second one runs while another editor
    relabels a span of the same article, who waits for it."""
    article = long_article
    seconds, accepted = timed(lambda: verbs.accept_all(article, editor))
    print(f"accept all: {len(accepted):,} of {REPEATS:,} spans confirmed in {seconds * 1000:.0f} ms")
    assert len(accepted) == verbs.ACCEPT_ALL_MAX and seconds < TARGET

    # The same change again, while another editor relabels a span of the same article.
    other_span = Span.objects.filter(article=article).order_by("-start").first()
    started, finished = threading.Event(), {}

    def bulk() -> None:
        with transaction.atomic():
            lock(Article(pk=article.pk), None, editor)  # held first: the other change must wait for it
            started.set()
            finished["bulk"] = timed(lambda: verbs.accept_all(Article(pk=article.pk), editor))[0]

    thread = in_thread(bulk)
    assert started.wait(WAIT)
    waited, _ = timed(lambda: verbs.relabel_span(other_span, "LOC", other_editor))
    thread.join(WAIT)
    print(f"another editor's relabel during accept all ({finished['bulk'] * 1000:.0f} ms): {waited * 1000:.0f} ms")
    assert waited < WAIT_TARGET


def test_label_everywhere_at_its_cap(make_article, editor, other_editor):
    """1,000 occurrences (the cap) in a 980,000-character article with 49,000 spans: all labelled."""
    body = (SENTENCE * 48 + "Pekín dijo. ") * 1_000 + "Fin."
    spans = [(m.start(), m.end(), "PER") for m in re.finditer("Ana", body)]
    article = make_article(body, spans=spans, title="Crónica de Pekín")
    first = body.index("Pekín")
    pekin = verbs.create_span(article, first, first + 5, "LOC", editor)
    other_span = Span.objects.filter(article=article).order_by("start").first()
    started, finished = threading.Event(), {}

    def bulk() -> None:
        with transaction.atomic():
            lock(Article(pk=article.pk), None, editor)  # held first: the other change must wait for it
            started.set()
            finished["bulk"] = timed(lambda: verbs.label_all_occurrences(pekin, editor))

    thread = in_thread(bulk)
    assert started.wait(WAIT)
    waited, _ = timed(lambda: verbs.relabel_span(other_span, "LOC", other_editor))
    thread.join(WAIT)
    seconds, added = finished["bulk"]
    print(f"label everywhere, {len(added):,} places: {seconds * 1000:.0f} ms")
    print(f"another editor's relabel meanwhile: {waited * 1000:.0f} ms")
    print(f"The article: {len(body):,} characters, {len(spans):,} model spans.")
    assert len(added) == 999 and seconds < TARGET and waited < WAIT_TARGET

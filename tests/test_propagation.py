"""An editor's entity offered wherever the same text appears in articles not reviewed yet."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from articles.editing import suggestions, verbs
from articles.models import Suggestion
from tests.conftest import span_texts

pytestmark = pytest.mark.django_db


def offers(article) -> list[tuple[str, str, str]]:
    return [
        (article.body[s.start : s.end], s.label.name, s.status)
        for s in Suggestion.objects.filter(article=article).select_related("label").order_by("start")
    ]


def test_a_new_entity_is_offered_in_articles_not_reviewed_yet(make_article, editor):
    source = make_article("Ayer habló Kim Jong Un en la tele.")
    pending = make_article("Kim Jong Un visitó Pekín. Luego Kim Jong Un volvió.")
    partial = make_article("Kim Jong Unas no es nadie; Kim Jong Un-Sol tampoco; Kim Jong Un sí.")
    reviewed = make_article("Kim Jong Un ya revisado.")
    verbs.mark_reviewed(reviewed, editor)
    start = source.body.index("Kim")
    verbs.create_span(source, start, start + len("Kim Jong Un"), "PER", editor)
    assert offers(pending) == [("Kim Jong Un", "PER", "pending")] * 2
    # Whole words only, as "label all occurrences" decides: neither "Kim Jong Unas" nor the
    # hyphen-joined "Kim Jong Un-Sol" is offered.
    assert [Suggestion.objects.get(article=partial).start] == [partial.body.index("Kim Jong Un sí")]
    assert offers(reviewed) == []
    assert offers(source) == []


def test_the_search_is_done_by_postgresql_through_the_trigram_index(make_article, editor):
    source = make_article("Ayer habló Kim Jong Un en la tele.")
    start = source.body.index("Kim")
    with CaptureQueriesContext(connection) as queries:
        verbs.create_span(source, start, start + 11, "PER", editor)
    search = next(q["sql"] for q in queries if "LIKE" in q["sql"])
    assert 'articles_articlesearch"."body"::text LIKE' in search
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT article_id FROM articles_articlesearch WHERE body LIKE %s", ["%Kim Jong Un%"])
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "articlesearch_body_trgm" in plan


def test_places_already_annotated_are_not_offered_but_a_model_label_can_be_corrected(make_article, editor):
    source = make_article("La OTAN se reúne hoy.", spans=[(3, 7, "LOC")])
    covered = make_article("La OTAN decide. Dijo la OTAN.", spans=[(3, 7, "LOC")])
    verbs.create_span(covered, 24, 28, "ORG", editor)
    verbs.relabel_span(source.spans.get(), "ORG", editor)
    # The model's LOC at 3–7 may be relabelled; the editor's ORG at 24–28 is the same already.
    assert offers(covered) == [("OTAN", "ORG", "pending")]
    suggestion = Suggestion.objects.get(article=covered)
    suggestions.accept_suggestion(suggestion, editor, version=None)
    assert span_texts(covered) == [("OTAN", "ORG", "model"), ("OTAN", "ORG", "editor")]
    assert offers(covered) == [("OTAN", "ORG", "accepted")]


def test_relabelling_withdraws_what_the_old_label_offered(make_article, editor):
    source = make_article("Habló Aurora Rivas.")
    other = make_article("Aurora Rivas llegó.")
    span = verbs.create_span(source, 6, 18, "ORG", editor)
    assert offers(other) == [("Aurora Rivas", "ORG", "pending")]
    verbs.relabel_span(span, "PER", editor)
    assert offers(other) == [("Aurora Rivas", "PER", "pending")]


def test_accepting_creates_the_span_and_dismissing_never_offers_it_again(make_article, editor):
    source = make_article("Habló Aurora Rivas.")
    first = make_article("Aurora Rivas llegó.")
    second = make_article("Llegó Aurora Rivas.")
    verbs.create_span(source, 6, 18, "PER", editor)
    suggestions.accept_suggestion(Suggestion.objects.get(article=first), editor, version=None)
    assert span_texts(first) == [("Aurora Rivas", "PER", "editor")]
    suggestions.dismiss_suggestion(Suggestion.objects.get(article=second), editor)
    verbs.create_span(make_article("Dijo Aurora Rivas."), 5, 17, "PER", editor)
    assert offers(second) == [("Aurora Rivas", "PER", "dismissed")]
    with pytest.raises(ValidationError, match="already accepted or dismissed"):
        suggestions.accept_suggestion(Suggestion.objects.get(article=second), editor, version=None)


def test_a_suggestion_that_now_overlaps_a_span_is_refused_with_a_clear_message(make_article, editor):
    source = make_article("Habló Aurora Rivas.")
    other = make_article("Aurora Rivas llegó.")
    verbs.create_span(source, 6, 18, "PER", editor)
    verbs.create_span(other, 0, 6, "LOC", editor)
    with pytest.raises(ValidationError, match="overlaps the LOC span “Aurora”"):
        suggestions.accept_suggestion(Suggestion.objects.get(article=other), editor, version=None)
    assert Suggestion.objects.get(article=other).status == "pending"
    assert span_texts(other) == [("Aurora", "LOC", "editor")]


def test_short_texts_are_not_propagated(make_article, editor):
    source = make_article("La UE y la UE.")
    verbs.create_span(source, 3, 5, "ORG", editor)
    assert not Suggestion.objects.exists()


def test_in_production_a_worker_offers_it_after_the_change(make_article, editor, settings):
    """The editor's request only queues the search; a worker's task runs it."""
    settings.SUGGESTIONS_IN_BACKGROUND = True
    source = make_article("Habló Aurora Rivas.")
    target = make_article("Aurora Rivas llegó.")
    span = verbs.create_span(source, 6, 18, "PER", editor)
    assert offers(target) == []
    queued = DBTaskResult.objects.get(task_path="articles.editing.propagation.offer_elsewhere")
    assert queued.args_kwargs["args"] == [span.pk, editor.pk, span.label_id]
    assert queued.task.call(*queued.args_kwargs["args"]) == 1
    assert offers(target) == [("Aurora Rivas", "PER", "pending")]
    # A span deleted before a worker got to it offers nothing.
    verbs.delete_span(span, editor)
    assert queued.task.call(span.pk, editor.pk) == 0


def test_undo_withdraws_the_pending_suggestions_its_change_offered(make_article, editor):
    source = make_article("Habló Mijaíl Degtiarev en Jabárovsk.")
    target = make_article("Mijaíl Degtiarev recibió al visitante.")
    span = verbs.create_span(source, 6, 22, "PER", editor)
    assert offers(target) == [("Mijaíl Degtiarev", "PER", "pending")]
    verbs.relabel_span(span, "ORG", editor)  # a mistake: it withdraws PER and offers ORG
    assert offers(target) == [("Mijaíl Degtiarev", "ORG", "pending")]
    verbs.undo(source, editor)  # the relabel undone: ORG is withdrawn, PER offered again
    assert offers(target) == [("Mijaíl Degtiarev", "PER", "pending")]
    verbs.undo(source, editor)  # the creation undone: nothing is left to accept by mistake
    assert offers(target) == []


def test_undo_leaves_decided_suggestions_alone(make_article, editor):
    source = make_article("Habló Mijaíl Degtiarev en Jabárovsk.")
    target = make_article("Mijaíl Degtiarev recibió al visitante.")
    verbs.create_span(source, 6, 22, "PER", editor)
    suggestions.dismiss_suggestion(Suggestion.objects.get(article=target), editor)
    verbs.undo(source, editor)
    assert offers(target) == [("Mijaíl Degtiarev", "PER", "dismissed")]


def test_deleting_or_resizing_the_source_withdraws_what_it_offered(make_article, editor):
    source = make_article("Habló Mijaíl Degtiarev en Jabárovsk. Y Aurora Rivas.")
    target = make_article("Mijaíl Degtiarev y Aurora Rivas recibieron al visitante.")
    mijail = verbs.create_span(source, 6, 22, "PER", editor)
    aurora = verbs.create_span(source, 39, 51, "PER", editor)
    assert len(offers(target)) == 2
    verbs.delete_span(mijail, editor)
    assert offers(target) == [("Aurora Rivas", "PER", "pending")]
    verbs.resize_span(aurora, 39, 45, editor)  # now "Aurora": the offer of "Aurora Rivas" is gone
    assert offers(target) == []


def test_a_slip_reverted_before_the_worker_runs_is_never_offered(make_article, editor, settings):
    """Press 4 (MISC) by mistake, then put the label back: the worker's task for MISC, run after,
    finds the span no longer MISC and offers nothing; only PER is offered."""
    settings.SUGGESTIONS_IN_BACKGROUND = True
    source = make_article("Habló Kim Jong Un ayer.", spans=[(6, 17, "PER")])
    target = make_article("Kim Jong Un respondió.")
    span = source.spans.get()
    verbs.relabel_span(span, "MISC", editor)
    verbs.relabel_span(span, "PER", editor)
    for queued in DBTaskResult.objects.order_by("enqueued_at"):
        queued.task.call(*queued.args_kwargs["args"])
    assert offers(target) == [("Kim Jong Un", "PER", "pending")]


def test_articles_annotated_twice_or_reviewed_are_never_offered_anything(make_article, editor):
    source = make_article("Habló Aurora Rivas.")
    double = make_article("Aurora Rivas llegó.", double=True)
    verbs.create_span(source, 6, 18, "PER", editor)
    assert offers(double) == []


def test_each_suggestion_says_where_it_came_from(make_article, editor, as_editor):
    source = make_article("Habló Aurora Rivas.", title="Entrevista")
    target = make_article("Aurora Rivas llegó.")
    verbs.create_span(source, 6, 18, "PER", editor)
    assert Suggestion.objects.get(article=target).source_article == source
    html = as_editor.get(f"/articles/{target.pk}/").content.decode()
    assert "from “Entrevista”, by eddie" in html

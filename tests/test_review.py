"""Team review: the double-annotation sample, two editors' versions kept apart, their agreement, and
adjudication into the article's spans."""

import json
import threading

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from articles.editing import verbs
from articles.editing.refusals import NotNow, NotYours
from articles.models import Annotation, Article, Decision, ImportBatch, ReviewPolicy, SpanEvent
from articles.queue import leases
from articles.review import adjudication, versions
from articles.review.agreement import agreement
from articles.review.disagreements import MISSING_FIRST, MISSING_SECOND, OTHER_BOUNDARY, OTHER_LABEL, Side, compare
from articles.site import accounts
from tests.conftest import PASSWORD, WAIT, in_thread, post_as_page, span_texts

pytestmark = pytest.mark.django_db

BODY = "Vladimir Putin recibió a Kim Jong Un en Moscú. Lula llegó después."
SPANS = [(0, 14, "PER"), (25, 36, "PER"), (40, 45, "LOC")]
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def double(make_article) -> Article:
    return make_article(BODY, spans=SPANS, double=True)


def texts(annotation: Annotation) -> list[tuple[str, str]]:
    return [(BODY[s.start : s.end], s.label.name) for s in annotation.spans.select_related("label")]


def post(client: Client, url: str, data: dict):
    return post_as_page(client, url, data, **HTMX)


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


# The sample


def test_a_share_picks_the_same_articles_every_time_and_leaves_started_ones_alone(make_article, editor):
    articles = [make_article(f"Artículo número {n}.") for n in range(200)]
    picked = versions.set_share(30)
    sampled = set(Article.objects.filter(double=True).values_list("pk", flat=True))
    assert picked == len(sampled) and 35 <= picked <= 85  # about 30 % of 200
    assert (
        versions.set_share(30) == picked
        and set(Article.objects.filter(double=True).values_list("pk", flat=True)) == sampled
    )
    started = Article.objects.get(pk=min(sampled))
    Annotation.objects.claim(started, editor)
    versions.set_share(0)
    assert list(Article.objects.filter(double=True).values_list("pk", flat=True)) == [started.pk]
    assert len({a.pk for a in articles}) == 200


def test_a_batch_share_wins_over_the_corpus_and_imports_follow_it(make_article, tmp_path):
    batch = ImportBatch.objects.create(name="cien.jsonl")
    versions.set_share(100, batch=batch)
    versions.set_share(0)
    assert ReviewPolicy.current().double_share == 0
    path = tmp_path / "cien.jsonl"
    path.write_text("".join(json.dumps({"text": f"Noticia {n} de la agencia."}) + "\n" for n in range(5)))
    from articles.ingest.runs import import_files

    import_files([(str(path), path)], batch=batch, preannotate=False)
    assert Article.objects.filter(batch=batch).count() == Article.objects.filter(batch=batch, double=True).count() == 5


def test_a_share_outside_0_to_100_is_refused(admin):
    client = signed_in(admin)
    client.get("/accounts/login/")
    response = client.post(
        "/review/share", {"share": "140"}, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, follow=True
    )
    assert "The share is a whole number of per cent, 0 to 100; got “140”." in response.content.decode()
    assert ReviewPolicy.current().double_share == 0


# Two versions, kept apart


def test_next_article_hands_an_article_of_the_sample_to_two_editors_each_with_a_copy(
    double, editor, other_editor, admin
):
    assert leases.lease_next(editor) == double
    assert leases.lease_next(other_editor) == double
    first, second = Annotation.objects.filter(article=double).order_by("slot")
    assert (first.editor, second.editor) == (editor, other_editor)
    assert texts(first) == texts(second) == [("Vladimir Putin", "PER"), ("Kim Jong Un", "PER"), ("Moscú", "LOC")]
    third = accounts.set_user("tercero", accounts.EDITOR, PASSWORD, validate=False)[0]
    assert leases.lease_next(third) is None  # two editors have it: not a third
    assert leases.lease_next(editor) == double  # the first editor's version is not finished


def test_an_editor_never_sees_the_other_version_and_changes_only_their_own(double, editor, other_editor):
    mine, theirs = (Annotation.objects.claim(double, user) for user in (editor, other_editor))
    verbs.relabel_span(mine.spans.get(start=40), "ORG", editor, version=mine.version)
    verbs.delete_span(theirs.spans.get(start=0), other_editor, version=theirs.version)
    page = signed_in(other_editor).get(f"/articles/{double.pk}/").content.decode()
    assert 'data-label="ORG"' not in page and "your own version (2 of 2)" in page
    assert page.count("data-span-id=") == 2  # their version: Putin deleted, Moscú still LOC
    double.refresh_from_db()
    assert double.version == 2 and span_texts(double)[0] == ("Vladimir Putin", "PER", "model")  # the article's own
    mine.refresh_from_db()
    assert mine.version == 2
    events = SpanEvent.objects.filter(article=double, actor__isnull=False)
    assert sorted((e.annotation_id, e.kind) for e in events) == sorted(
        [(mine.pk, "relabelled"), (theirs.pk, "deleted")]
    )


@pytest.mark.django_db(transaction=True)
def test_both_editors_change_the_article_at_once_and_no_change_is_lost(double, editor, other_editor):
    """Each version has its own version number: the two editors never refuse each other's changes."""
    mine, theirs = (Annotation.objects.claim(double, user) for user in (editor, other_editor))
    errors, start = [], threading.Barrier(2)

    def work(user, annotation) -> None:
        try:
            start.wait(WAIT)
            version = annotation.version
            for word_start, word in ((47, "Lula"), (52, "llegó")):
                verbs.create_span(annotation, word_start, word_start + len(word), "MISC", user, version=version)
                version += 1
            for span in list(annotation.spans.filter(start__lt=40)):
                verbs.relabel_span(span, "ORG", user, version=version)
                version += 1
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [in_thread(lambda u=u, a=a: work(u, a)) for u, a in ((editor, mine), (other_editor, theirs))]
    for thread in threads:
        thread.join(WAIT)
    assert errors == []
    for annotation in (mine, theirs):
        annotation.refresh_from_db()
        assert annotation.version == 5
        assert texts(annotation) == [
            ("Vladimir Putin", "ORG"),
            ("Kim Jong Un", "ORG"),
            ("Moscú", "LOC"),
            ("Lula", "MISC"),
            ("llegó", "MISC"),
        ]


def test_changes_outside_ones_own_version_are_refused(double, editor, other_editor, as_editor):
    mine, theirs = (Annotation.objects.claim(double, user) for user in (editor, other_editor))
    span = theirs.spans.get(start=0)
    third = accounts.set_user("tercero", accounts.EDITOR, PASSWORD, validate=False)[0]
    # The third editor: neither version is theirs, and the article's own spans wait for adjudication.
    response = post(signed_in(third), f"/articles/{double.pk}/spans/{span.pk}/label", {"label": "LOC", "version": 1})
    assert response.status_code == 403 and "it is not yours to change" in response.content.decode()
    # The first editor names the other editor's span: it is not in their version.
    response = post(as_editor, f"/articles/{double.pk}/spans/{span.pk}/label", {"label": "LOC", "version": 1})
    assert response.status_code == 422 and "is not part of article" in response.content.decode()
    assert texts(theirs)[0] == ("Vladimir Putin", "PER")
    verbs.mark_reviewed(mine, editor)
    response = post(as_editor, f"/articles/{double.pk}/undo", {"version": 2})
    assert response.status_code == 409 and "You finished your version" in response.content.decode()
    # Adjudication is for reviewers.
    response = post(as_editor, f"/articles/{double.pk}/adjudicate/decide", {"start": 0, "end": 14, "side": "1"})
    assert response.status_code == 403


def test_undo_walks_back_ones_own_version_only(double, editor, other_editor):
    mine, theirs = (Annotation.objects.claim(double, user) for user in (editor, other_editor))
    verbs.relabel_span(mine.spans.get(start=0), "ORG", editor)
    verbs.relabel_span(theirs.spans.get(start=0), "LOC", other_editor)
    verbs.undo(mine, editor)
    assert texts(mine)[0] == ("Vladimir Putin", "PER") and texts(theirs)[0] == ("Vladimir Putin", "LOC")


# Disagreements and adjudication


def test_disagreements_are_found_with_their_kind():
    first = [Side(0, 14, "PER"), Side(25, 36, "PER"), Side(40, 45, "LOC"), Side(47, 51, "PER")]
    second = [Side(0, 14, "PER"), Side(25, 28, "PER"), Side(29, 36, "PER"), Side(40, 45, "ORG"), Side(52, 57, "MISC")]
    agreed, found = compare(first, second)
    assert agreed == [Side(0, 14, "PER")]
    assert [(d.start, d.end, d.kind) for d in found] == [
        (25, 36, OTHER_BOUNDARY),
        (40, 45, OTHER_LABEL),
        (47, 51, MISSING_SECOND),
        (52, 57, MISSING_FIRST),
    ]


@pytest.fixture
def finished(double, editor, other_editor) -> Article:
    """Both versions finished: the first relabels Moscú, the second deletes Kim Jong Un and adds Lula."""
    mine, theirs = (Annotation.objects.claim(double, user) for user in (editor, other_editor))
    verbs.relabel_span(mine.spans.get(start=40), "ORG", editor)
    verbs.delete_span(theirs.spans.get(start=25), other_editor)
    verbs.create_span(theirs, 47, 51, "PER", other_editor)
    for user, annotation in ((editor, mine), (other_editor, theirs)):
        verbs.mark_reviewed(annotation, user)
    return double


def test_a_reviewer_settles_each_disagreement_and_the_article_is_reviewed(finished, reviewer):
    assert list(Article.objects.awaiting_adjudication()) == [finished]
    found = adjudication.versions(finished)
    assert [(d.start, d.end, d.kind) for d in found.disagreements] == [
        (25, 36, MISSING_SECOND),
        (40, 45, OTHER_LABEL),
        (47, 51, MISSING_FIRST),
    ]
    with pytest.raises(ValidationError, match="3 disagreements are not settled yet"):
        adjudication.finish(finished, reviewer)
    adjudication.take_side(finished, 25, 36, "1", reviewer)  # Kim Jong Un stays
    adjudication.take_side(finished, 40, 45, "2", reviewer)  # Moscú is LOC
    adjudication.take_side(finished, 47, 51, "2", reviewer)  # Lula is a person
    adjudication.finish(finished, reviewer)
    finished.refresh_from_db()
    assert (finished.status, finished.reviewed_by) == ("reviewed", reviewer)
    assert [(t, label) for t, label, _ in span_texts(finished)] == [
        ("Vladimir Putin", "PER"),
        ("Kim Jong Un", "PER"),
        ("Moscú", "LOC"),
        ("Lula", "PER"),
    ]
    assert list(Decision.objects.values_list("choice", flat=True)) == ["1", "2", "2"]
    # Every change to the article's own spans is the reviewer's, in the history.
    assert set(
        SpanEvent.objects.filter(article=finished, annotation=None, actor__isnull=False).values_list("actor", flat=True)
    ) == {reviewer.pk}
    assert list(Article.objects.awaiting_adjudication()) == []


def test_adjudication_waits_for_both_versions(double, editor, reviewer):
    Annotation.objects.claim(double, editor)
    with pytest.raises(ValidationError, match="Both editors must finish"):
        adjudication.take_side(double, 0, 14, "1", reviewer)


def test_the_adjudication_page_shows_both_versions_and_every_disagreement(finished, reviewer, editor, other_editor):
    page = signed_in(reviewer).get(f"/articles/{finished.pk}/adjudicate/").content.decode()
    assert f"Version 1 by {editor.username}, version 2 by {other_editor.username}." in page
    assert page.count("data-disagreement ") == 3
    assert 'data-kind="missing-second"' in page and 'data-kind="other-label"' in page
    assert "0 of 3 disagreements settled." in page
    response = post(
        signed_in(reviewer),
        f"/articles/{finished.pk}/adjudicate/decide",
        {"start": 40, "end": 45, "side": "2", "version": finished.version},
    )
    assert response.status_code == 200 and "1 of 3 disagreements settled." in response.content.decode()
    finished.refresh_from_db()
    stale = post(
        signed_in(reviewer),
        f"/articles/{finished.pk}/adjudicate/decide",
        {"start": 25, "end": 36, "side": "1", "version": 1},
    )
    assert stale.status_code == 409 and "your change was not saved" in stale.content.decode()
    forged = post(
        signed_in(reviewer),
        f"/articles/{finished.pk}/adjudicate/decide",
        {"start": 1, "end": 2, "side": "1", "version": finished.version},
    )
    assert forged.status_code == 422 and "There is no disagreement at 1–2." in forged.content.decode()


# Agreement


def test_agreement_counts_span_f1_and_kappa_over_words(finished, editor, other_editor):
    figures = agreement()
    assert figures["articles"] == 1
    # Version 1: Putin PER, Kim Jong Un PER, Moscú ORG. Version 2: Putin PER, Moscú LOC, Lula PER.
    # Exact: Putin only: 2 × 1 / (3 + 3). Overlap: Putin on both sides; Moscú's labels differ.
    assert figures["overall"]["exact"] == pytest.approx(1 / 3)
    assert figures["overall"]["overlap"] == pytest.approx(1 / 3)
    per = {row["label"]: row for row in figures["labels"]}
    assert per["PER"]["spans"] == [2, 2] and per["PER"]["exact"] == pytest.approx(0.5)
    # 12 words: Vladimir Putin (PER, PER), Kim Jong Un (PER, -), Moscú (ORG, LOC), Lula (-, PER), 5 (-, -).
    observed = (2 + 5) / 12
    chance = (5 * 3 + 6 * 8) / 12 / 12  # PER: 5 and 3 words; ORG and LOC: on one side each; none: 6 and 8
    assert figures["kappa"] == pytest.approx((observed - chance) / (1 - chance))
    assert [pair["editors"] for pair in figures["pairs"]] == [
        " – ".join(sorted([editor.username, other_editor.username]))
    ]
    assert len(figures["over_time"]) == 1


def test_what_both_editors_added_reaches_the_gold_whatever_came_before(double, editor, other_editor, reviewer):
    """Both editors add Lula as LOC. Before adjudication nobody may touch the article's own spans (a
    reviewer's hand edit, a suggestion), so the copy of what they agree on always happens."""
    for user in (editor, other_editor):
        version = Annotation.objects.claim(double, user)
        verbs.create_span(version, 47, 51, "LOC", user)
        if user == editor:
            verbs.relabel_span(version.spans.get(start=40), "ORG", user)
        verbs.mark_reviewed(version, user)
    double.refresh_from_db()
    with pytest.raises(NotNow, match="before its adjudication begins"):
        verbs.delete_span(double.spans.get(start=0), reviewer)
    assert double.adjudication_started_at is None
    adjudication.take_side(double, 40, 45, "2", reviewer, version=double.version)
    double.refresh_from_db()
    assert ("Lula", "LOC", "editor") in span_texts(double)
    assert (double.adjudication_started_by, double.adjudication_version) == (reviewer, double.version - 1)
    # Undo takes back the decision, never the copy of what both agreed on.
    verbs.undo(double, reviewer)
    assert not Decision.objects.filter(article=double).exists()  # open again, not "settled"
    assert [(d.start, d.end) for d in adjudication.versions(double).unsettled] == [(40, 45)]
    verbs.undo(double, reviewer)
    assert ("Lula", "LOC", "editor") in span_texts(double)
    assert [t for t, _, _ in span_texts(double)] == ["Vladimir Putin", "Kim Jong Un", "Lula"]


def test_an_editor_of_one_version_never_adjudicates_it(double, editor, admin):
    for user in (editor, admin):
        verbs.mark_reviewed(Annotation.objects.claim(double, user), user)
    with pytest.raises(NotYours, match="another reviewer adjudicates it"):
        adjudication.take_side(double, 0, 14, "1", admin)

"""The editing workspace through Django's test client: each change, each refusal, the review flow."""

import json
import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from articles.editing import tokens, verbs
from articles.models import Article, Label, SpanEvent, contrast
from articles.site.defaults import LABELS
from tests.conftest import post_as_page, span_texts

pytestmark = pytest.mark.django_db

BODY = "Vladimir Putin recibió a Kim Jong Un en Moscú. Kim habló; Kimberly calló. Kim volvió."
HTMX = {"HTTP_HX_REQUEST": "true"}
MOSCU = BODY.index("Moscú")


def post(client: Client, url: str, data: dict, *, csrf: bool = True, htmx: bool = True):
    """A POST the way the page sends it (``csrf=False``: without the token)."""
    send = post_as_page if csrf else Client.post
    return send(client, url, data, **(HTMX if htmx else {}))


def html_text(response) -> str:
    return response.content.decode()


def alert(response) -> str:
    return unescape(re.search(r'role="alert"[^>]*>(.*?)</p>', html_text(response), re.S).group(1).strip())


@pytest.fixture
def article(make_article) -> Article:
    return make_article(BODY, spans=[(0, 14, "PER"), (MOSCU, MOSCU + 5, "ORG")])


def url(name: str, article: Article, span_id: int | None = None) -> str:
    kwargs = {"pk": article.pk} | ({"span_id": span_id} if span_id else {})
    return reverse(f"articles:{name}", kwargs=kwargs)


# Snapping a selection to whole tokens.


@pytest.mark.parametrize(
    ("body", "selected", "snapped"),
    [
        ("Vladimir Putin habló.", "dimir Pu", "Vladimir Putin"),  # half-selected words are extended
        ("Dijo: «Kim Jong Un», y se fue.", ": «Kim Jong Un», ", "Kim Jong Un"),  # spaces and punctuation trimmed
        ("Miguel Díaz-Canel llegó.", "Díaz-Ca", "Díaz-Canel"),
        ("El señor O'Donnell vino.", "Donnell", "O'Donnell"),
        ("Bandera 🇰🇵 y más.", "🇰🇵 ", "🇰🇵"),
        ("Ella q\u0301uiere.", "q", "q\u0301uiere"),  # a combining accent stays with its letter
        ("Caf\u00e9 <Moscú> & “Kim”", "Moscú>", "Moscú"),
    ],
)
def test_a_selection_snaps_to_whole_tokens(body, selected, snapped):
    start = body.index(selected)
    s, e = tokens.snap(body, start, start + len(selected))
    assert body[s:e] == snapped


def test_a_selection_of_only_punctuation_is_refused():
    with pytest.raises(Exception, match="holds no word"):
        tokens.snap("Hola , adiós", 4, 7)


def test_moving_an_edge_goes_by_whole_tokens():
    body = "Dijo Kim Jong Un, en Seúl."
    start, end = body.index("Jong"), body.index("Jong") + 4
    assert body[slice(*tokens.step(body, start, end, "start", -1))] == "Kim Jong"
    assert body[slice(*tokens.step(body, start, end, "end", 1))] == "Jong Un"
    kim_jong_un = (body.index("Kim"), body.index(","))
    assert body[slice(*tokens.step(body, *kim_jong_un, "start", 1))] == "Jong Un"
    assert body[slice(*tokens.step(body, *kim_jong_un, "end", -1))] == "Kim Jong"
    with pytest.raises(Exception, match="cannot grow or shrink"):
        tokens.step(body, start, end, "end", -1)


# Reading.


def test_a_pre_annotated_article_is_in_review_from_its_first_change_not_its_opening(as_editor, article):
    assert article.status == Article.Status.PRE_ANNOTATED
    html = html_text(as_editor.get(f"/articles/{article.pk}/"))
    article.refresh_from_db()
    assert article.status == Article.Status.PRE_ANNOTATED
    assert "pre-annotated" in html
    span = article.spans.first()
    post(as_editor, url("accept-span", article, span.pk), {"version": article.version})
    article.refresh_from_db()
    assert article.status == Article.Status.IN_REVIEW


def test_the_workspace_shows_a_legend_with_hotkeys_and_entities_grouped_by_label(as_editor, article):
    html = html_text(as_editor.get(f"/articles/{article.pk}/"))
    legend = re.findall(r'data-label-choice="(\w+)" data-hotkey="(\d)"', html)
    assert legend == [("PER", "1"), ("LOC", "2"), ("ORG", "3"), ("MISC", "4")]
    entities = re.search(r'<aside[^>]*id="span-list".*?</aside>', html, re.S).group(0)
    heading = r'<section class="entity-group"[^>]*data-label-id="\d+">\s*<h3><span class="swatch[^"]*">(\w+)</span>'
    shown = re.findall(heading + r' <span class="count">(\d+)</span>', entities)
    assert shown == [("PER", "1"), ("ORG", "1")]  # the labels without entities are hidden
    group = r'data-label="(\w+)" data-text="([^"]+)"><summary>[^<]+'
    texts = re.findall(group + r' <span class="count">(\d+)</span>', entities)
    assert texts == [("PER", "Vladimir Putin", "1"), ("ORG", "Moscú", "1")]
    assert '<script type="module" src="/static/workspace.js">' in html
    assert 'action="/articles/next/">' in html and f'name="after" value="{article.pk}">' in html
    assert 'type="submit" data-action="next-article"' in html


@pytest.mark.parametrize("count", [3, 300])
def test_the_workspace_costs_the_same_queries_for_any_number_of_spans(
    as_editor, make_article, django_assert_num_queries, count
):
    body = " ".join(f"N{i:04d}" for i in range(count))
    article = make_article(body, spans=[(i * 6, i * 6 + 5, "PER") for i in range(count)])
    as_editor.get(f"/articles/{article.pk}/")  # the first visit also moves it to in_review
    # session, user, two for permissions, the article, its lease renewed, spans, labels, suggestions
    with django_assert_num_queries(9):
        html = html_text(as_editor.get(f"/articles/{article.pk}/"))
    assert html.count("data-span-id=") == count


def test_every_default_label_colour_meets_wcag_aa_with_its_ink():
    for name, _description, color, _hotkey in LABELS:
        label = Label(name=name, color=color)
        assert contrast(color, label.ink) >= 4.5, name
    dark = Label(name="X", color="#1d3557")
    assert dark.ink == "#ffffff" and contrast(dark.color, dark.ink) >= 4.5


# Correcting: each change answers with the text block and the side regions out of band.


def test_creating_a_span_snaps_it_and_answers_with_what_changed(as_editor, article, editor):
    start = BODY.index("im Jong")
    data = {"start": start, "end": start + 7, "label": "PER", "version": article.version}
    response = post(as_editor, url("create-span", article), data)
    assert response.status_code == 200
    html = html_text(response)
    # Only the segment of the text that changed, out of band, and the entity group of its label.
    assert html.lstrip().startswith('<span class="seg" id="seg-0" hx-swap-oob="true">')
    assert "data-article-body" not in html
    per = Label.objects.get(name="PER").pk
    assert re.findall(r'<section class="entity-group" id="entities-(\d+)"[^>]*hx-swap-oob="true"', html) == [str(per)]
    assert re.search(r'id="workspace-status"[^>]*>Added PER “Kim Jong”.</p>', html)
    created = article.spans.get(start=BODY.index("Kim"))
    article.refresh_from_db()
    answer = json.loads(response["HX-Trigger-After-Swap"])["workspace-answer"]
    assert answer == {"saved": True, "select": created.pk, "version": article.version}
    assert span_texts(article) == [
        ("Vladimir Putin", "PER", "model"),
        ("Kim Jong", "PER", "editor"),
        ("Moscú", "ORG", "model"),
    ]
    assert SpanEvent.objects.filter(actor=editor, kind="created").count() == 1


def test_relabel_accept_resize_and_delete_are_recorded_with_their_kind(as_editor, article, editor):
    putin, moscow = article.spans.order_by("start")
    version = article.version
    steps = [
        (url("relabel-span", article, moscow.pk), {"label": "LOC"}, "“Moscú” is now LOC."),
        (url("accept-span", article, putin.pk), {}, "Accepted PER “Vladimir Putin”."),
        (url("resize-span", article, putin.pk), {"edge": "start", "by": 1}, "Resized to “Putin”."),
        (url("resize-span", article, putin.pk), {"start": 2, "end": 12}, "Resized to “Vladimir Putin”."),
        (url("delete-span", article, moscow.pk), {}, "Deleted LOC “Moscú”."),
    ]
    for path, data, message in steps:
        response = post(as_editor, path, data | {"version": version})
        assert response.status_code == 200, html_text(response)
        assert message in html_text(response)
        version += 1
    assert span_texts(article) == [("Vladimir Putin", "PER", "model")]
    kinds = list(SpanEvent.objects.filter(actor=editor).values_list("kind", flat=True))
    assert kinds == ["relabelled", "accepted", "resized", "resized", "deleted"]


def test_labelling_all_occurrences_skips_overlaps_and_partial_words(as_editor, make_article, editor):
    article = make_article(BODY, spans=[(25, 36, "PER")])  # "Kim Jong Un"
    data = {"start": 47, "end": 50, "label": "PER", "version": article.version}
    kim = post(as_editor, url("create-span", article), data)
    assert kim.status_code == 200
    span = article.spans.get(start=47)
    article.refresh_from_db()
    response = post(as_editor, url("label-everywhere", article, span.pk), {"version": article.version})
    assert "Labelled 1 more “Kim” as PER." in html_text(response)
    assert [t for t in span_texts(article)] == [
        ("Kim Jong Un", "PER", "model"),
        ("Kim", "PER", "editor"),
        ("Kim", "PER", "editor"),  # "Kimberly" is skipped, and the Kim inside "Kim Jong Un"
    ]
    assert article.spans.filter(start=BODY.rindex("Kim")).exists()
    assert SpanEvent.objects.filter(actor=editor, kind="created").count() == 2
    article.refresh_from_db()
    again = post(as_editor, url("label-everywhere", article, span.pk), {"version": article.version})
    assert "No other free occurrence of “Kim” to label." in html_text(again)


def test_undo_walks_back_repeatedly(as_editor, article):
    putin, moscow = article.spans.order_by("start")
    post(as_editor, url("relabel-span", article, moscow.pk), {"label": "LOC", "version": article.version})
    post(as_editor, url("delete-span", article, putin.pk), {"version": article.version + 1})
    first = post(as_editor, url("undo", article), {"version": article.version + 2})
    assert "Undone: deleted “Vladimir Putin”." in html_text(first)
    second = post(as_editor, url("undo", article), {"version": article.version + 3})
    assert "Undone: relabelled “Moscú”." in html_text(second)
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Moscú", "ORG", "model")]
    third = post(as_editor, url("undo", article), {"version": article.version + 4})
    assert "Nothing to undo" in html_text(third)


def test_a_change_without_htmx_redirects_back_with_a_message(as_editor, article):
    path = url("relabel-span", article, article.spans.first().pk)
    response = post(as_editor, path, {"label": "LOC", "version": article.version}, htmx=False)
    assert response.status_code == 302 and response.url == f"/articles/{article.pk}/"
    assert "is now LOC" in html_text(as_editor.get(response.url))


# Review flow.


def test_mark_reviewed_records_who_and_when_and_goes_to_the_next_article(as_editor, make_article, editor):
    first = make_article("Putin habló.", spans=[(0, 5, "PER")])
    second = make_article("Kim calló.", spans=[(0, 3, "PER")])
    as_editor.get(f"/articles/{first.pk}/")
    first.refresh_from_db()
    response = post(as_editor, url("mark-reviewed", first), {"version": first.version})
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/articles/{second.pk}/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.reviewed_by, first.reviewed_at is not None) == ("reviewed", editor, True)
    assert second.leased_by == editor


def test_next_article_skips_the_article_the_editor_leaves(as_editor, make_article):
    only = make_article("Putin habló.", spans=[(0, 5, "PER")])
    assert post(as_editor, "/articles/next/", {"after": only.pk - 1}, htmx=False).url == f"/articles/{only.pk}/"
    assert post(as_editor, "/articles/next/", {"after": only.pk}, htmx=False).url == "/articles/"


# No lost update.


def test_a_stale_change_is_refused_naming_who_and_refreshes_the_view(as_editor, article, other_editor):
    seen = article.version
    verbs.create_span(article, 47, 50, "PER", other_editor, version=seen)
    path = url("relabel-span", article, article.spans.first().pk)
    response = post(as_editor, path, {"label": "LOC", "version": seen})
    assert response.status_code == 409
    assert "changed by erin (now version" in alert(response)
    # The refreshed text shows the other editor's span and the current version.
    assert 'data-label="PER" data-origin="editor">Kim</mark>' in html_text(response)
    assert f'data-version="{seen + 1}"' in html_text(response)
    assert span_texts(article)[0] == ("Vladimir Putin", "PER", "model")


# Forged requests: a clear 4xx with a message, and nothing changes.


@pytest.mark.parametrize(
    ("name", "data", "status", "message"),
    [
        ("create-span", {"start": 60, "end": 999, "label": "PER"}, 422, "A selection needs 0 <= start < end <= 85"),
        ("create-span", {"start": -3, "end": 4, "label": "PER"}, 422, "got start=-3, end=4"),
        ("create-span", {"start": 20, "end": 20, "label": "PER"}, 422, "got start=20, end=20"),
        ("create-span", {"start": 30, "end": 20, "label": "PER"}, 422, "got start=30, end=20"),
        ("create-span", {"start": "x", "end": 20, "label": "PER"}, 400, "The field “start” must be a whole number"),
        ("create-span", {"start": 9, "end": 22, "label": "PER"}, 422, "overlaps the PER span “Vladimir Putin” (0–14)"),
        ("create-span", {"start": 25, "end": 28, "label": "PERSON"}, 422, "Unknown label 'PERSON'."),
        ("relabel", {"label": "NOPE"}, 422, "Unknown label 'NOPE'."),
        ("foreign", {"label": "LOC"}, 422, "is not part of article"),
        ("resize", {"edge": "middle", "by": 1}, 400, "Resizing needs edge=start or end"),
        ("resize", {"start": 0, "end": 46}, 422, "overlaps the ORG span “Moscú”"),
        ("no-version", {"label": "LOC"}, 400, "which version of the article"),
    ],
)
def test_forged_changes_are_refused_with_a_message_and_change_nothing(
    as_editor, article, make_article, name, data, status, message
):
    other = make_article("Otro artículo con Lula.", spans=[(18, 22, "PER")])
    putin = article.spans.get(start=0)
    path = {
        "create-span": url("create-span", article),
        "relabel": url("relabel-span", article, putin.pk),
        "foreign": url("relabel-span", article, other.spans.get().pk),
        "resize": url("resize-span", article, putin.pk),
        "no-version": url("relabel-span", article, putin.pk),
    }[name]
    before = (span_texts(article), span_texts(other), article.version, SpanEvent.objects.count())
    response = post(as_editor, path, data if name == "no-version" else data | {"version": article.version})
    assert response.status_code == status
    assert message in alert(response)
    assert response["HX-Reswap"] == "none"
    article.refresh_from_db()
    assert (span_texts(article), span_texts(other), article.version, SpanEvent.objects.count()) == before


def test_a_change_without_the_csrf_token_is_refused(as_editor, article):
    path = url("relabel-span", article, article.spans.first().pk)
    response = post(as_editor, path, {"label": "LOC", "version": article.version}, csrf=False)
    assert response.status_code == 403
    # Not an error page swapped into the text: a message for the page's alert region.
    assert response["HX-Retarget"] == "#page-alert"
    assert "Reload the page" in html_text(response)
    assert span_texts(article)[0] == ("Vladimir Putin", "PER", "model")


def test_changes_answer_only_post_and_only_to_editors(article, as_outsider, anonymous, editor):
    client = Client()
    client.force_login(editor)
    for name in ["create-span", "undo", "mark-reviewed"]:
        assert client.get(url(name, article)).status_code == 405
    assert post(as_outsider, url("undo", article), {"version": article.version}).status_code == 403
    # Signed out: a plain form is sent to sign in; an htmx change is told so, never given the sign-in page.
    response = post(anonymous, url("undo", article), {"version": article.version}, htmx=False)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    response = post(anonymous, url("undo", article), {"version": article.version})
    assert response.status_code == 401 and response["HX-Reswap"] == "none"
    assert "You are signed out: sign in again in a new tab" in html_text(response)


def test_a_change_on_a_long_article_answers_with_the_changed_segment_only(as_editor, make_article):
    paragraphs = [" ".join(f"Nombre{p:02d}{i:02d} habló." for i in range(50)) for p in range(80)]
    text = "\n".join(paragraphs)  # 8,000 words in 80 paragraphs, each shorter than a segment
    article = make_article(text, spans=[(0, 10, "PER"), (len(text) - 17, len(text) - 7, "PER")])
    last = article.spans.get(start=len(text) - 17)
    response = post(as_editor, url("relabel-span", article, last.pk), {"label": "LOC", "version": article.version})
    html = html_text(response)
    assert re.findall(r'<span class="seg" id="seg-(\d+)" hx-swap-oob="true">', html) == [str(text.rindex("\n") + 1)]
    assert len(response.content) < len(text) / 10  # not the text of the other 79 paragraphs
    assert f'data-span-id="{last.pk}" data-start="{last.start}" data-end="{last.end}" data-label="LOC"' in html


def test_a_span_across_a_paragraph_answers_with_the_whole_text(as_editor, make_article):
    text = "Dijo el Banco\nCentral que sí.\nNo más."
    article = make_article(text)
    data = {"start": 8, "end": 21, "label": "ORG", "version": article.version}
    html = html_text(post(as_editor, url("create-span", article), data))
    assert '<div class="article-body" id="article-body" data-article-body' in html
    assert re.findall(r'<span class="seg" id="seg-(\d+)"', html) == ["0", str(text.index("No"))]


def test_labelling_all_occurrences_relabels_the_models_untouched_spans_of_that_text(as_editor, make_article, editor):
    text = "Kim llegó. Kim habló. Kim calló."
    article = make_article(text, spans=[(0, 3, "ORG"), (11, 14, "LOC")])
    first = article.spans.get(start=0)
    verbs.relabel_span(first, "PER", editor)
    article.refresh_from_db()
    response = post(as_editor, url("label-everywhere", article, first.pk), {"version": article.version})
    assert "Labelled 2 more “Kim” as PER." in html_text(response)
    assert span_texts(article) == [("Kim", "PER", "model"), ("Kim", "PER", "model"), ("Kim", "PER", "editor")]
    assert list(SpanEvent.objects.filter(actor=editor).order_by("id").values_list("kind", flat=True)) == [
        "relabelled",
        "created",
        "relabelled",
    ]
    # One change: one undo takes all of it back.
    article.refresh_from_db()
    post(as_editor, url("undo", article), {"version": article.version})
    assert span_texts(article) == [("Kim", "PER", "model"), ("Kim", "LOC", "model")]


def test_accept_the_rest_confirms_every_untouched_model_span_in_one_change(as_editor, article, editor):
    putin, moscow = article.spans.order_by("start")
    verbs.delete_span(moscow, editor)
    article.refresh_from_db()
    response = post(as_editor, url("accept-all", article), {"version": article.version})
    assert "Accepted 1 entity of the model." in html_text(response)
    assert not article.spans.untouched_model_output().exists()
    assert SpanEvent.objects.filter(actor=editor, kind="accepted").get().span_id == putin.pk
    article.refresh_from_db()
    again = post(as_editor, url("accept-all", article), {"version": article.version})
    assert "Every entity of the model is confirmed already." in html_text(again)


def test_an_overlapping_selection_is_offered_as_a_replacement(as_editor, article, editor):
    start = BODY.index("Putin")
    data = {"start": start, "end": start + 12, "label": "PER", "version": article.version}  # "Putin recibió"
    refused = post(as_editor, url("create-span", article), data)
    assert refused.status_code == 422
    html = html_text(refused)
    assert "overlaps the PER span “Vladimir Putin”" in html
    assert 'data-action="replace-overlap"' in html and "Replace with PER “Putin recibió”" in html
    assert span_texts(article)[0] == ("Vladimir Putin", "PER", "model")
    replaced = post(as_editor, url("create-span", article), data | {"replace": "1"})
    assert "Replaced with PER “Putin recibió”." in html_text(replaced)
    assert span_texts(article)[0] == ("Putin recibió", "PER", "editor")
    assert list(SpanEvent.objects.filter(actor=editor).values_list("kind", flat=True)) == ["deleted", "created"]


def test_a_reviewed_article_shows_no_unconfirmed_entity(as_editor, article, editor):
    assert 'class="span label-' in html_text(as_editor.get(f"/articles/{article.pk}/"))
    assert " proposed" in html_text(as_editor.get(f"/articles/{article.pk}/"))
    verbs.mark_reviewed(article, editor)
    assert " proposed" not in html_text(as_editor.get(f"/articles/{article.pk}/"))


def test_suggestions_show_their_sentence_and_leave_out_places_now_taken(as_editor, make_article, editor):
    source = make_article("Habló Aurora Rivas.")
    target = make_article("Primera frase. Ayer llegó Aurora Rivas a Quito. Otra frase.")
    verbs.create_span(source, 6, 18, "PER", editor)
    html = html_text(as_editor.get(f"/articles/{target.pk}/"))
    context = re.search(r'<p class="context">(.*?)</p>', html, re.S).group(1)
    assert re.sub(r"<[^>]+>", "", context) == "Ayer llegó Aurora Rivas a Quito."
    verbs.create_span(target, 26, 32, "LOC", editor)  # an editor marks "Aurora" there by hand
    assert "data-suggestion-id" not in html_text(as_editor.get(f"/articles/{target.pk}/"))

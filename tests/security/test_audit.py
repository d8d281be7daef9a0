"""The audit trail: each article's span history, who (or the model), what and when, for admins, and
nothing in the app that edits it."""

import re

import pytest

from articles.editing import verbs
from articles.models import Span, SpanEvent
from articles.workspace.history import HISTORY_PAGE_SIZE

pytestmark = pytest.mark.django_db

BODY = "Vladimir Putin visitó Moscú con Kim Jong Un."


@pytest.fixture
def article(make_article, editor):
    """The model proposes Putin PER and Moscú LOC; the editor relabels, resizes, deletes, undoes."""
    article = make_article(BODY, spans=[(0, 14, "PER"), (22, 27, "LOC")])
    putin, moscu = article.spans.select_related("label", "article")
    verbs.relabel_span(moscu, "ORG", editor)
    verbs.delete_span(putin, editor)
    verbs.undo(article, editor)
    verbs.create_span(article, 32, 35, "PER", editor)
    verbs.resize_span(Span.objects.get(start=32), 32, 43, editor)
    return article


def rows(html: str) -> list[tuple[str, str, str, str]]:
    found = re.findall(
        r'<tr data-event-id="\d+" data-kind="(\w+)">.*?<td data-who>(.*?)</td>.*?<td data-before>(.*?)</td>'
        r"\s*<td data-after>(.*?)</td>",
        html,
        re.S,
    )
    return [tuple(cell.strip() for cell in row) for row in found]


def test_admins_see_every_change_newest_first_with_who_what_and_when(as_admin, article):
    html = as_admin.get(f"/articles/{article.pk}/history/").content.decode()
    assert rows(html) == [
        ("resized", "eddie", "PER “Kim” [32–35]", "PER “Kim Jong Un” [32–43]"),
        ("created", "eddie", "—", "PER “Kim” [32–35]"),
        ("restored", "eddie", "—", "PER “Vladimir Putin” [0–14]"),
        ("deleted", "eddie", "PER “Vladimir Putin” [0–14]", "—"),
        ("relabelled", "eddie", "LOC “Moscú” [22–27]", "ORG “Moscú” [22–27]"),
        ("created", "model test_model 1.0", "—", "LOC “Moscú” [22–27]"),
        ("created", "model test_model 1.0", "—", "PER “Vladimir Putin” [0–14]"),
    ]
    deletion = SpanEvent.objects.get(article=article, kind="deleted")
    assert f"(undoes #{deletion.pk})" in html
    assert f'<time datetime="{deletion.at.isoformat()}">' in html
    assert "7 changes to this article’s entities" in html
    assert "<form" not in html.split("<main>")[1].split("</main>")[0]  # nothing to submit: read-only


def test_the_history_costs_a_fixed_number_of_queries(as_admin, article, django_assert_num_queries):
    # session, user, article, count, one page of events with their actors
    with django_assert_num_queries(6):
        as_admin.get(f"/articles/{article.pk}/history/")


def test_the_history_is_paged(as_admin, make_article, editor):
    article = make_article(BODY, spans=[(0, 14, "PER")])
    span = article.spans.select_related("label", "article").get()
    for i in range(HISTORY_PAGE_SIZE):
        verbs.relabel_span(span, ["LOC", "PER"][i % 2], editor)
    first = as_admin.get(f"/articles/{article.pk}/history/").content.decode()
    assert len(rows(first)) == HISTORY_PAGE_SIZE and "Page 1 of 2" in first
    assert '<a href="?page=2" rel="next">Older</a>' in first
    second = as_admin.get(f"/articles/{article.pk}/history/?page=2").content.decode()
    assert rows(second) == [("created", "model test_model 1.0", "—", "PER “Vladimir Putin” [0–14]")]
    refused = as_admin.get(f"/articles/{article.pk}/history/?page=3")
    assert refused.status_code == 400
    assert refused.content.decode() == "There is no page “3” of this history: it has pages 1 to 2."


def test_only_admins_see_the_history(anonymous, as_outsider, as_editor, as_admin, article):
    path = f"/articles/{article.pk}/history/"
    assert anonymous.get(path).url.startswith("/accounts/login/?next=")
    assert as_outsider.get(path).status_code == 403
    assert as_editor.get(path).status_code == 403
    assert as_admin.get("/articles/999999/history/").status_code == 404
    assert as_admin.post(path).status_code in (403, 405)


def test_the_workspace_links_to_the_history_for_admins_only(as_admin, as_editor, article):
    link = f'<a href="/articles/{article.pk}/history/" data-action="history">History</a>'
    assert link in as_admin.get(f"/articles/{article.pk}/").content.decode()
    assert "/history/" not in as_editor.get(f"/articles/{article.pk}/").content.decode()


def csrf(client) -> str:
    client.get("/accounts/login/")
    return client.cookies["csrftoken"].value


def test_the_admin_shows_the_history_but_cannot_change_add_or_delete_it(as_admin, article):
    event = SpanEvent.objects.filter(article=article).first()
    before = list(SpanEvent.objects.order_by("pk").values())
    change = f"/admin/articles/spanevent/{event.pk}/change/"
    page = as_admin.get(change).content.decode()
    assert "View span event" in page and 'name="kind"' not in page and "Save" not in page
    posted = {"kind": "deleted", "before_label": "X", "csrfmiddlewaretoken": csrf(as_admin)}
    assert as_admin.post(change, posted).status_code == 403
    assert as_admin.post("/admin/articles/spanevent/add/", posted).status_code == 403
    delete = {"post": "yes", "csrfmiddlewaretoken": csrf(as_admin)}
    assert as_admin.post(f"/admin/articles/spanevent/{event.pk}/delete/", delete).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes", **delete}
    as_admin.post("/admin/articles/spanevent/", bulk)
    assert list(SpanEvent.objects.order_by("pk").values()) == before


def test_spans_are_not_changed_or_deleted_through_the_admin_either(as_admin, article):
    span = article.spans.first()
    before = list(Span.objects.order_by("pk").values())
    delete = {"post": "yes", "csrfmiddlewaretoken": csrf(as_admin)}
    assert as_admin.post(f"/admin/articles/span/{span.pk}/delete/", delete).status_code == 403
    bulk = {"action": "delete_selected", "_selected_action": [span.pk], **delete}
    as_admin.post("/admin/articles/span/", bulk)
    change = {"start": 1, "end": 2, "csrfmiddlewaretoken": csrf(as_admin)}
    assert as_admin.post(f"/admin/articles/span/{span.pk}/change/", change).status_code == 403
    assert list(Span.objects.order_by("pk").values()) == before


def test_the_history_speaks_spanish_too(as_admin, article):
    html = as_admin.get(f"/articles/{article.pk}/history/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "<h1>Historial de cambios</h1>" in html and "modelo test_model 1.0" in html
    assert "7 cambios en las entidades de este artículo" in html

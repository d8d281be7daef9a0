"""The queue at /articles/: filters, allow-listed orderings, seek pagination, query counts."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.editing import verbs
from articles.models import LEASE, Article, ImportBatch

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def rows(html: str) -> list[dict[str, str]]:
    """The table's rows as a reader sees them: title, status, span count, last editor."""
    out = []
    for row in re.findall(r"<tr data-article-id=\"\d+\">(.*?)</tr>", html, re.S):
        cells = [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        out.append({"title": cells[0], "status": cells[1], "spans": cells[2], "editor": cells[3]})
    return out


def titles(response) -> list[str]:
    return [row["title"] for row in rows(response.content.decode())]


@pytest.fixture
def many(make_article, editor, other_editor):
    """120 pre-annotated articles with 1 to 3 spans each, alternately last changed by two editors."""
    made = []
    for i in range(120):
        body = f"Artículo {i:03}: Putin visitó Moscú y habló con Kim."
        places = [(word, body.index(word)) for word in ("Putin", "Moscú", "Kim")]
        spans = [(at, at + len(word), label) for (word, at), label in zip(places, ["PER", "LOC", "PER"], strict=True)]
        spans = spans[: 1 + i % 3]
        made.append(make_article(body, spans=spans, title=f"Nota {i:03}"))
    Article.objects.filter(pk__in=[a.pk for a in made[::2]]).update(updated_by=editor)
    Article.objects.filter(pk__in=[a.pk for a in made[1::2]]).update(updated_by=other_editor)
    return made


def test_each_row_shows_status_span_count_last_editor_and_who_has_it_open(as_editor, make_article, other_editor):
    visita = make_article("Putin visitó Moscú.", spans=[(0, 5, "PER"), (13, 18, "LOC")], title="Visita")
    make_article("Nada que ver aquí.", title="Vacío")
    verbs.create_span(visita, 6, 12, "MISC", other_editor)
    assert rows(as_editor.get("/articles/").content.decode()) == [
        {"title": "Visita", "status": "in review open by erin", "spans": "3", "editor": "erin"},
        {"title": "Vacío", "status": "new", "spans": "0", "editor": "—"},
    ]


def test_the_query_count_does_not_grow_with_the_articles(as_editor, many, django_assert_num_queries):
    # the request's database bounds, session, user, two for permissions, the page, its span counts,
    # the capped count, labels and batches for the filter form, and the pre-annotation progress
    # (waiting, pace, failed).
    with django_assert_num_queries(13):
        page = as_editor.get("/articles/")
    shown = rows(page.content.decode())
    assert len(shown) == 50
    assert [row["spans"] for row in shown[:4]] == ["1", "2", "3", "1"]
    assert [row["editor"] for row in shown[:2]] == ["eddie", "erin"]
    assert "120 articles" in page.content.decode()
    # An HTMX page swap renders only the table: no labels or batches for the form.
    with django_assert_num_queries(8):
        as_editor.get(f"/articles/?after={many[49].pk}", **HTMX)


def test_pages_follow_each_other_without_gaps_or_repeats_in_every_ordering(as_editor, many):
    Article.objects.filter(pk__in=[a.pk for a in many[:30]]).update(title="Mismo título")  # ties on title
    for ordering in ["id", "-id", "-updated_at", "title", "-title"]:
        seen, url = [], f"/articles/?ordering={ordering}"
        while url:
            html = as_editor.get(url).content.decode()
            seen += [int(pk) for pk in re.findall(r'<tr data-article-id="(\d+)"', html)]
            found = re.search(r'href="([^"]*)"[^>]*rel="next"', html)
            url = "/articles/" + found.group(1).replace("&amp;", "&") if found else None
        expected = Article.objects.order_by(*([ordering, "-pk" if ordering.startswith("-") else "pk"]))
        assert seen == list(expected.values_list("pk", flat=True)), ordering


def test_previous_goes_back_to_the_page_before(as_editor, many):
    second = as_editor.get(f"/articles/?after={many[49].pk}").content.decode()
    assert titles_of(second)[0] == "Nota 050"
    previous = re.search(r'href="([^"]*)"[^>]*rel="prev"', second).group(1).replace("&amp;", "&")
    assert previous == f"?before={many[50].pk}"
    back = as_editor.get("/articles/" + previous).content.decode()
    assert titles_of(back) == [f"Nota {i:03}" for i in range(50)]
    assert 'rel="prev"' not in back and 'rel="next"' in back


def titles_of(html: str) -> list[str]:
    return [row["title"] for row in rows(html)]


def test_it_filters_by_status_label_batch_and_text(as_editor, make_article):
    batch = ImportBatch.objects.create(name="agencia-2026-11.jsonl")
    make_article("Las elecciones en Chile.", spans=[(16, 21, "LOC")], title="Chile vota", batch=batch)
    make_article("El Gobierno de Moscú.", spans=[(15, 20, "LOC")], title="Rusia")
    make_article("Una elección reñida en Perú.", spans=[(23, 27, "ORG")], title="Perú", status="reviewed")
    make_article("Sin anotar todavía.", title="Nueva")

    def shown(query: str) -> list[str]:
        return titles(as_editor.get(f"/articles/?{query}"))

    assert shown("status=reviewed") == ["Perú"]
    assert shown("status=new") == ["Nueva"]
    assert shown("label=LOC") == ["Chile vota", "Rusia"]
    assert shown(f"batch={batch.pk}") == ["Chile vota"]
    # Spanish stemming and accents: "eleccion" finds "elecciones" and "elección"; "moscu" finds "Moscú".
    assert shown("q=eleccion") == ["Chile vota", "Perú"]
    assert shown("q=moscu") == ["Rusia"]
    assert shown("q=rusia") == ["Rusia"]  # the title counts too
    assert shown("q=eleccion+-chile") == ["Perú"]
    assert shown("q=eleccion&label=LOC") == ["Chile vota"]
    assert "No article matches these filters." in as_editor.get("/articles/?q=zanahoria").content.decode()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ordering=created_by__password", "Sort: Select a valid choice. created_by__password is not one of"),
        ("ordering=body", "Sort: Select a valid choice. body is not one of"),
        ("status=deleted", "Status: Select a valid choice. deleted is not one of"),
        ("label=NOPE", "Label: Select a valid choice."),
        ("batch=abc", "Batch: Select a valid choice."),
        ("after=-3", "Ensure this value is greater than or equal to 1."),
        ("after=3&before=9", "Give either “after” or “before”, not both."),
        ("q=" + "x" * 201, "Search: Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_bad_filters_get_400_with_a_message_and_no_articles(as_editor, admin, make_article, query, message):
    make_article("Secreto.", title="Secreto")
    response = as_editor.get(f"/articles/?{query}")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'role="alert"' in html and message in html
    assert "Secreto" not in html and admin.password not in html


def test_an_htmx_request_gets_only_the_table_and_history_gets_the_page(as_editor, make_article):
    make_article("Putin visitó Moscú.", title="Visita")
    fragment = as_editor.get("/articles/?q=moscu", **HTMX)
    html = fragment.content.decode()
    assert html.lstrip().startswith('<section id="article-table"') and "<html" not in html
    assert titles(fragment) == ["Visita"]
    assert "HX-Request" in fragment["Vary"]
    restore = as_editor.get("/articles/?q=moscu", HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX)
    assert "<html" in restore.content.decode()


def test_the_filter_form_works_without_javascript(as_editor, make_article):
    make_article("x.", title="Uno")
    html = as_editor.get("/articles/?status=new&ordering=-id").content.decode()
    form = re.search(r'<form method="get" action="/articles/".*?</form>', html, re.S).group(0)
    assert 'hx-get="/articles/"' in form and 'hx-push-url="true"' in form
    assert '<button type="submit">' in form
    assert '<option value="new" selected>' in form and '<option value="-id" selected>' in form


def test_the_count_is_capped_on_a_large_queue(as_editor, many, monkeypatch):
    monkeypatch.setattr("articles.queue.views.COUNT_CAP", 100)
    assert "More than 100 articles" in as_editor.get("/articles/").content.decode()
    assert "3 articles" in as_editor.get("/articles/?q=007+or+008+or+009").content.decode()


def test_an_expired_lease_is_not_shown(as_editor, make_article, other_editor):
    article = make_article("Putin.", spans=[(0, 5, "PER")])
    Article.objects.filter(pk=article.pk).update(
        leased_by=other_editor, leased_until=timezone.now() - timedelta(seconds=1)
    )
    assert "open by" not in as_editor.get("/articles/").content.decode()
    Article.objects.filter(pk=article.pk).update(leased_until=timezone.now() + LEASE)
    assert "open by erin" in as_editor.get("/articles/").content.decode()

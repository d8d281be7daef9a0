"""The queue in a real browser: HTMX filters and pages, next article, the language switch."""

import re

from playwright.sync_api import expect

from articles.models import Article
from tests.browser.conftest import SCREENSHOTS


def test_filters_swap_the_table_and_push_the_url(new_page, editor, make_article):
    make_article("Las elecciones en Chile.", spans=[(16, 21, "LOC")], title="Chile vota")
    make_article("El Gobierno de Moscú.", spans=[(15, 20, "LOC")], title="Rusia")
    make_article("Sin anotar todavía.", title="Nueva")
    page = new_page(editor)
    # Changes made by HTMX never reload the page: a marker set on the window survives them.
    page.evaluate("window.notReloaded = true")
    titles = page.locator("#article-table td.title")
    expect(titles).to_have_text(["Chile vota", "Rusia", "Nueva"])
    page.fill("input[name=q]", "moscu")
    expect(titles).to_have_text(["Rusia"])
    page.wait_for_url(re.compile(r"q=moscu"))
    page.select_option("select[name=status]", "new")
    expect(page.locator("#article-table td.empty")).to_have_text("No article matches these filters.")
    page.wait_for_url(re.compile(r"status=new"))
    page.fill("input[name=q]", "")
    expect(titles).to_have_text(["Nueva"])
    assert page.evaluate("window.notReloaded") is True
    # Back in history restores the earlier filter, page and table alike.
    page.go_back()
    expect(page.locator("input[name=q]")).to_have_value("moscu")
    expect(page.locator("#article-table td.empty")).to_be_visible()


def test_pages_move_by_htmx_and_next_article_opens_one(new_page, editor, make_article):
    for i in range(55):
        make_article(f"Nota número {i}.", title=f"Nota {i:02}", status=Article.Status.PRE_ANNOTATED)
    page = new_page(editor)
    page.evaluate("window.notReloaded = true")
    rows = page.locator("#article-table tbody tr")
    expect(rows).to_have_count(50)
    page.click("a[rel=next]")
    expect(rows).to_have_count(5)
    expect(rows.first.locator("td.title")).to_have_text("Nota 50")
    page.click("a[rel=prev]")
    expect(rows).to_have_count(50)
    assert page.evaluate("window.notReloaded") is True
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "queue-desktop.png")
    page.set_viewport_size({"width": 390, "height": 800})  # a phone: rows become cards
    assert page.locator("table.articles thead").bounding_box()["height"] <= 1
    page.screenshot(path=SCREENSHOTS / "queue-phone.png")
    page.click("[data-action=next-article]")
    first = Article.objects.order_by("pk").first()
    page.wait_for_url(f"**/articles/{first.pk}/")
    assert Article.objects.get(pk=first.pk).leased_by == editor


def test_the_language_switch_turns_the_page_spanish(new_page, editor):
    page = new_page(editor)
    page.click("button[name=language][value=es]")
    expect(page.locator("h1")).to_have_text("Artículos")
    expect(page.locator("[data-action=next-article]")).to_have_text("Revisar el siguiente artículo")

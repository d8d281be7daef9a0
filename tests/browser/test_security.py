"""What only a browser shows about trust: attack inputs that never run, under the strict CSP, and a
session changed in another tab explained in the page instead of breaking it."""

import re

from playwright.sync_api import Dialog, expect

from articles.models import Article, Span
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import PASSWORD, span_texts
from tests.security.attacks import LABEL_NAME
from tests.security.world import build


def test_attack_inputs_never_run_on_any_page(new_page, make_article, admin):
    world = build(make_article)
    page = new_page(admin)
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    paths = [
        "/articles/",
        f"/articles/{world.article.pk}/",
        f"/articles/{world.reviewed.pk}/history/",
        "/upload/",
        f"/upload/{world.batch.pk}/",
        f"/upload/{world.checked_batch.pk}/",
        "/export/",
        "/quality/",
        "/admin/",
        "/admin/articles/article/",
        "/admin/articles/label/",
        f"/admin/articles/label/{world.label.pk}/change/",
        "/admin/articles/spanevent/",
    ]
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, path
        page.wait_for_load_state("networkidle")
        assert page.locator("svg[onload], img[onerror], script:not([src]):not([type='application/json'])").count() == 0
    # A change in the workspace swaps the regions in: still text.
    page.goto(f"/articles/{world.article.pk}/")
    page.locator("[data-article-body] [data-span-id]").first.click()
    page.locator(f'[data-label-choice="{LABEL_NAME}"]').click()
    expect(page.locator("#workspace-status")).to_contain_text(f"is now {LABEL_NAME}")
    assert dialogs == []
    # (new_page fails the test on any CSP violation or page error when it closes.)


def test_a_session_changed_in_another_tab_asks_to_reload_and_changes_nothing(new_page, make_article, editor):
    article = make_article("Vladimir Putin visitó Moscú con Kim Jong Un.", spans=[(0, 14, "PER"), (22, 27, "LOC")])
    page = new_page(editor, f"/articles/{article.pk}/")
    text = page.locator("[data-article-body]").inner_text()
    # Signing in again in another tab of the same browser rotates the CSRF token.
    other = page.context.new_page()
    other.goto("/accounts/login/")
    other.fill("input[name=username]", editor.get_username())
    other.fill("input[name=password]", PASSWORD)
    other.click("main button[type=submit]")  # not the top bar's "Sign out": the user is signed in
    other.wait_for_url(re.compile(r"/articles/$"))
    other.close()
    page.bring_to_front()
    page.locator("[data-span-id]").first.click()
    page.keyboard.press("Delete")
    alert = page.locator("#page-alert")
    expect(alert).to_contain_text("Your session changed")
    expect(alert.get_by_role("link", name="Reload the page")).to_have_attribute("href", f"/articles/{article.pk}/")
    # The text is intact, the editor is not told to try again, and the database is as it was.
    assert page.locator("[data-article-body]").inner_text() == text
    assert page.locator("[data-article-body] [data-span-id]").count() == 2
    expect(page.locator("#workspace-status")).to_have_text("")
    expect(page.locator("#workspace-alert")).to_have_text("")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / "session-changed-in-another-tab.png")
    assert Article.objects.get(pk=article.pk).version == article.version
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Moscú", "LOC", "model")]
    # The link reloads the page, which then saves again.
    alert.get_by_role("link", name="Reload the page").click()
    page.locator("[data-span-id]").first.click()
    page.keyboard.press("Delete")
    expect(page.locator("[data-article-body] [data-span-id]")).to_have_count(1)
    assert Span.objects.filter(article=article).count() == 1

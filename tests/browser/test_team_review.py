"""Team review in a real browser: two editors annotate one article of the sample, each in a version
of their own, and a reviewer settles their disagreements with the keyboard."""

import re

from playwright.sync_api import expect

from articles.models import Annotation, Article, Decision
from tests.conftest import span_texts

BODY = "Vladimir Putin recibió a Kim Jong Un en Moscú. Lula llegó después."


def test_two_editors_and_a_reviewer_take_one_article_through_team_review(
    new_page, editor, other_editor, reviewer, make_article
):
    article = make_article(BODY, spans=[(0, 14, "PER"), (25, 36, "PER"), (40, 45, "LOC")], double=True)

    first = new_page(editor)
    first.click("[data-action=next-article]")  # taking work is a POST: opening a link takes nothing
    first.wait_for_url(f"**/articles/{article.pk}/", wait_until="load")  # the workspace's script is in
    expect(first.locator("[data-own-version]")).to_have_text("your own version (1 of 2)")
    first.click("[data-span-id] >> text=Moscú")
    first.keyboard.press("3")
    expect(first.locator("#workspace-status")).to_have_text("“Moscú” is now ORG.")
    first.keyboard.press("r")  # finishes the version: the article waits for the other one
    first.wait_for_url(re.compile(r"/articles/$"))
    expect(first.locator("[role=status]").first).to_contain_text("Your version of")

    second = new_page(other_editor)
    second.click("[data-action=next-article]")
    second.wait_for_url(f"**/articles/{article.pk}/", wait_until="load")
    expect(second.locator("[data-own-version]")).to_have_text("your own version (2 of 2)")
    # The other editor's change is nowhere on this page.
    expect(second.locator("[data-span-id] >> text=Moscú")).to_have_attribute("data-label", "LOC")
    second.click("[data-span-id] >> text=Kim Jong Un")
    second.keyboard.press("Delete")
    expect(second.locator("#workspace-status")).to_have_text("Deleted PER “Kim Jong Un”.")
    second.click("[data-span-id] >> text=Moscú")
    for key in ("t", "ArrowRight", "1"):  # the word after Moscú, by the text cursor
        second.keyboard.press(key)
    expect(second.locator("#workspace-status")).to_have_text("Added PER “Lula”.")
    second.keyboard.press("r")
    second.wait_for_url(re.compile(r"/articles/$"))
    article.refresh_from_db()
    assert article.status == "in_review" and span_texts(article)[2] == ("Moscú", "LOC", "model")  # untouched

    page = new_page(reviewer, "/review/")
    page.click("[data-action=adjudicate-next]")
    page.wait_for_url(f"**/articles/{article.pk}/adjudicate/")
    expect(page.locator("[data-disagreement]")).to_have_count(3)
    status = page.locator("#adjudication-status")
    expect(status).to_contain_text("0 of 3 disagreements settled.")
    page.keyboard.press("?")
    expect(page.locator("#help")).to_contain_text("Take the first or the second editor’s spans there")
    page.keyboard.press("Escape")
    current = page.locator("[data-disagreement].current")
    page.keyboard.press("ArrowRight")
    expect(current).to_have_attribute("data-start", "40")
    page.keyboard.press("ArrowLeft")
    expect(current).to_have_attribute("data-start", "25")
    page.keyboard.press("1")  # Kim Jong Un: only the first editor marked it; it stays
    expect(status).to_contain_text("1 of 3 disagreements settled.")
    expect(current).to_have_attribute("data-start", "40")  # on to the next one not settled
    page.keyboard.press("2")  # Moscú: LOC, as the second editor kept it
    expect(status).to_contain_text("2 of 3 disagreements settled.")
    expect(current).to_have_attribute("data-start", "47")
    page.keyboard.press("2")  # Lula: a person, as the second editor marked it
    expect(status).to_contain_text("3 of 3 disagreements settled.")
    page.keyboard.press("r")
    page.wait_for_url(re.compile(r"/review/$"))
    expect(page.locator("[role=status]").first).to_contain_text("is adjudicated and reviewed")

    article.refresh_from_db()
    assert (article.status, article.reviewed_by) == ("reviewed", reviewer)
    assert [(text, label) for text, label, _ in span_texts(article)] == [
        ("Vladimir Putin", "PER"),
        ("Kim Jong Un", "PER"),
        ("Moscú", "LOC"),
        ("Lula", "PER"),
    ]
    assert sorted(Decision.objects.values_list("start", "choice")) == [(25, "1"), (40, "2"), (47, "2")]
    assert Annotation.objects.filter(article=article).finished().count() == 2
    assert not Article.objects.awaiting_adjudication().exists()

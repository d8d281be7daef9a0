"""Suggestions in the workspace: the same text labelled elsewhere, decided with one key."""

from playwright.sync_api import expect

from articles.editing import verbs
from articles.models import Suggestion


def test_y_accepts_and_n_dismisses_the_focused_suggestion(new_page, editor, make_article):
    source = make_article("Habló Aurora Rivas.")
    target = make_article("Aurora Rivas llegó y Aurora Rivas se fue.")
    verbs.create_span(source, 6, 18, "PER", editor)
    page = new_page(editor, f"/articles/{target.pk}/")
    items = page.locator("[data-suggestion-id]")
    expect(items).to_have_count(2)
    version = page.locator("[data-article-body]").get_attribute("data-version")
    items.first.focus()
    page.keyboard.press("y")
    expect(items).to_have_count(1)
    # The accepted suggestion is a span in the text at once, and the page knows the new version.
    expect(page.locator("[data-article-body] [data-span-id]")).to_have_text(["Aurora Rivas"])
    expect(page.locator("[data-article-body]")).not_to_have_attribute("data-version", version)
    assert target.spans.get().start == 0
    # The next suggestion has the focus: n dismisses it (and does not open the next article).
    expect(items.first).to_be_focused()
    page.keyboard.press("n")
    expect(items).to_have_count(0)
    assert page.url.endswith(f"/articles/{target.pk}/")
    assert sorted(Suggestion.objects.filter(article=target).values_list("start", "status")) == [
        (0, "accepted"),
        (21, "dismissed"),
    ]


HIGHLIGHTED = """() => {
  const highlight = CSS.highlights.get("suggestion");
  return highlight ? [...highlight].map((range) => range.toString()) : [];
}"""


def test_g_goes_to_the_suggestions_which_show_their_sentence_and_place(new_page, editor, make_article):
    source = make_article("Habló Aurora Rivas.")
    target = make_article("Primera frase sin nombres. Después llegó Aurora Rivas a Quito. Otra frase.")
    verbs.create_span(source, 6, 18, "PER", editor)
    page = new_page(editor, f"/articles/{target.pk}/")
    item = page.locator("[data-suggestion-id]")
    expect(item.locator(".context")).to_have_text("Después llegó Aurora Rivas a Quito.")
    page.keyboard.press("g")  # from anywhere in the workspace, one key
    expect(item).to_be_focused()
    assert page.evaluate(HIGHLIGHTED) == ["Aurora Rivas"]  # its place in the text, without touching the text
    page.locator("[data-label-choice=PER]").focus()  # the focus leaves it: so does the highlight
    assert page.evaluate(HIGHLIGHTED) == []

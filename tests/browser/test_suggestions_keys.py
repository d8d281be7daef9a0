"""One key decides a suggestion: the fragment and static/suggestions.js as the workspace will include them."""

from django.template.loader import render_to_string
from playwright.sync_api import expect

from articles import actions
from articles.models import Suggestion
from articles.views import pending_suggestions


def test_y_accepts_and_n_dismisses_the_focused_suggestion(new_page, editor, make_article):
    source = make_article("Habló Aurora Rivas.")
    target = make_article("Aurora Rivas llegó y Aurora Rivas se fue.")
    actions.create_span(source, 6, 18, "PER", editor)
    fragment = render_to_string("articles/_suggestions.html", {"suggestions": pending_suggestions(target)})
    page = new_page(editor, f"/articles/{target.pk}/")
    # Stand-in for the workspace's include: the fragment, processed by htmx, and the module.
    page.evaluate(
        """([html, src]) => {
            document.querySelector("main").insertAdjacentHTML("beforeend", html);
            htmx.process(document.getElementById("suggestions"));
            const script = document.createElement("script");
            script.src = src;
            document.head.append(script);
            return new Promise((resolve) => script.addEventListener("load", resolve));
        }""",
        [fragment, "/static/suggestions.js"],
    )
    items = page.locator("[data-suggestion-id]")
    assert items.count() == 2
    items.first.focus()
    page.keyboard.press("y")
    expect(items).to_have_count(1)
    assert target.spans.get().start == 0
    # The next suggestion has the focus: n dismisses it.
    page.keyboard.press("n")
    expect(items).to_have_count(0)
    assert sorted(Suggestion.objects.filter(article=target).values_list("start", "status")) == [
        (0, "accepted"),
        (21, "dismissed"),
    ]

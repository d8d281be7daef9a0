"""What an editor sees of a pre-annotated article, in a real browser."""

from articles.models import Span


def test_the_editor_sees_each_span_highlighted_in_its_labels_colour(new_page, editor, make_article):
    article = make_article(
        "Vladimir Putin visitó Moscú <y> “Kim” & 🇰🇵.", spans=[(0, 14, "PER"), (22, 27, "LOC"), (33, 36, "PER")]
    )
    page = new_page(editor, f"/articles/{article.pk}/")
    marks = page.locator("[data-article-body] [data-span-id]")
    assert marks.all_text_contents() == ["Vladimir Putin", "Moscú", "Kim"]
    assert page.locator("[data-article-body]").text_content() == article.body
    for mark in marks.all():
        span = Span.objects.get(pk=mark.get_attribute("data-span-id"))
        assert (mark.get_attribute("data-start"), mark.get_attribute("data-end")) == (str(span.start), str(span.end))
    colours = {
        m.get_attribute("data-label"): m.evaluate("e => getComputedStyle(e).backgroundColor") for m in marks.all()
    }
    assert colours == {"PER": "rgb(255, 214, 165)", "LOC": "rgb(185, 251, 192)"}


def test_the_article_list_links_to_each_article(new_page, editor, make_article):
    article = make_article("Putin visitó Moscú.", spans=[(0, 5, "PER")], title="Visita a Moscú")
    page = new_page(editor)
    page.click("text=Visita a Moscú")
    page.wait_for_url(f"**/articles/{article.pk}/")
    assert page.locator("[data-span-id]").all_text_contents() == ["Putin"]

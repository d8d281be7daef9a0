"""The quality page in a real browser: server-drawn charts within the strict CSP."""

from tests.test_quality import reviewed_article


def test_the_admin_sees_the_charts_and_can_ask_for_retraining(new_page, admin, editor, make_article, settings):
    article = reviewed_article(make_article, editor)
    page = new_page(admin)
    page.click("text=Quality")
    page.wait_for_url("**/quality/")
    assert page.locator("svg[role=img]").count() == 4
    bars = page.locator("#model-quality svg").first.locator("rect[width]")
    assert bars.count() > 3 and page.locator("#model-quality svg").first.bounding_box()["width"] > 300
    page.locator('[data-correction="missed"] a').first.click()
    page.wait_for_url(f"**/articles/{article.pk}/")
    page.go_back()
    page.click('[data-action="train-model"]')
    assert "review 19 more" in page.locator("[role=status]").first.text_content()

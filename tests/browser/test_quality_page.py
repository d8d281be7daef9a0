"""The quality page in a real browser: server-drawn charts within the strict CSP."""

from playwright.sync_api import expect

from articles.models import TrainingRun
from articles.nlp import training, training_runs
from tests.test_quality import reviewed_article
from tests.test_training import reviewed_corpus


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


def test_the_quality_page_follows_a_training_live_and_then_charts_its_model(
    new_page, admin, editor, make_article, settings, tmp_path
):
    settings.MODELS_DIR = tmp_path / "models"
    reviewed_corpus(make_article, editor, 12)
    run = training_runs.begin(admin, queued=True)
    page = new_page(admin, "/quality/")
    box = page.locator("#training-progress[role=status]")
    expect(box).to_contain_text("Training queued by ada")
    page.evaluate("window.notReloaded = true")

    # What a worker does with the queued run; the page's next polls bring its end, without a reload.
    training.train(run=run, min_articles=10, iterations=2, force=True)
    expect(box).to_contain_text("finished: annotator_ner-1 (active)", timeout=15_000)
    assert box.locator("tr[data-iteration]").count() == len(TrainingRun.objects.get().progress["curve"])
    assert page.evaluate("window.notReloaded") is True

    page.reload()
    expect(page.locator("figcaption", has_text="Held-out F1 of each retrained model")).to_be_visible()
    assert page.locator("figcaption").count() == page.locator("svg[role=img]").count() == 5
    expect(page.locator("#trained-models tr[data-active]")).to_contain_text("annotator_ner-1")

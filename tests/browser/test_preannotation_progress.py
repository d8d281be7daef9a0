"""The article list follows the workers live, without a reload."""

import io

from django.core.management import call_command
from playwright.sync_api import expect


def test_the_list_shows_what_waits_and_what_failed_as_the_model_goes(new_page, editor, make_article):
    for i in range(3):
        make_article(f"Pedro Sánchez viajó a Bruselas el día {i}.")
    broken = make_article("Vladimir Putin\x07 llegó a Moscú.", title="Texto binario")
    page = new_page(editor)
    box = page.locator("#preannotation-progress[role=status]")
    expect(box).to_contain_text("4 articles wait for pre-annotation")
    page.evaluate("window.notReloaded = true")

    call_command("preannotate", stdout=io.StringIO())

    # The next poll brings the news: nothing waits, one article failed and says why.
    expect(box).not_to_contain_text("wait for pre-annotation", timeout=15_000)
    expect(box).to_contain_text("1 article could not be pre-annotated")
    page.click("#preannotation-progress summary")
    expect(box.locator(f"[data-failed-article='{broken.pk}']")).to_contain_text(
        "Texto binario: control character U+0007 at character 14"
    )
    assert page.evaluate("window.notReloaded") is True

"""The export page in a real browser: the count follows the filters, and a button downloads."""

from playwright.sync_api import expect

from articles.editing import verbs


def test_the_count_follows_the_filters_and_the_csv_downloads(new_page, admin, make_article):
    reviewed = make_article("Putin visitó Moscú.", spans=[(0, 5, "PER"), (13, 18, "LOC")])
    make_article("Kim Jong Un llegó a Vladivostok.", spans=[(0, 10, "PER"), (20, 31, "LOC")])
    verbs.mark_reviewed(reviewed, admin)
    page = new_page(admin, "/export/")
    count = page.locator("#export-count")
    expect(count).to_have_text("2 articles and 4 spans will be exported.")
    page.check("input[name=status][value=reviewed]")
    expect(count).to_have_text("1 article and 2 spans will be exported.")
    page.check("input[name=label][value=LOC]")
    expect(count).to_have_text("1 article and 1 span will be exported.")
    with page.expect_download() as download:
        page.click("text=CSV for Excel")
    content = download.value.path().read_bytes()
    assert content.startswith(b"\xef\xbb\xbfarticle_id,")
    assert content.decode("utf-8-sig").splitlines()[1].split(",")[6] == "Moscú"
    assert download.value.suggested_filename.endswith(".csv")

"""Correcting an article in a real browser, by mouse and by keyboard, checking the database each time."""

import re

import pytest
from playwright.sync_api import Page, expect

from articles.models import Article, Span, SpanEvent
from articles.nlp import preannotation
from tests import spanish_news
from tests.conftest import span_texts

# Astral characters (a flag, a ZWJ family), a combining accent, line breaks, <, & and quotes: the
# browser counts UTF-16 units, the server code points, and every span must still be body[start:end].
TRICKY = (
    "Hoy 🇰🇵 “Kim Jong Un” & <Moscú>\n"
    "Ella q\u0301uiere a Ana Díaz-Canel 👩\u200d👩\u200d👧 en São Paulo.\n"
    "'Putin' dijo \"sí\" a Lula."
)

# Where a piece of the article's text is on screen: the rectangles of its first and last characters.
RECTS = """([needle, nth]) => {
  const body = document.querySelector('[data-article-body]');
  let at = -1;
  for (let i = 0; i <= nth; i++) at = body.textContent.indexOf(needle, at + 1);
  if (at < 0) throw new Error('not in the text: ' + needle);
  const point = (unit) => {
    const walker = document.createTreeWalker(body, NodeFilter.SHOW_TEXT);
    let seen = 0;
    while (walker.nextNode()) {
      const n = walker.currentNode.length;
      if (unit < seen + n) return [walker.currentNode, unit - seen];
      seen += n;
    }
  };
  const rect = (from, to) => {
    const r = document.createRange();
    r.setStart(...point(from));
    const [node, offset] = point(to - 1);
    r.setEnd(node, offset + 1);
    const rects = r.getClientRects();
    return rects[rects.length - 1];
  };
  const firstLen = needle.codePointAt(0) > 0xffff ? 2 : 1;
  const end = needle.charCodeAt(needle.length - 1);
  const last = needle.length - (end >= 0xdc00 && end <= 0xdfff ? 2 : 1);
  const a = rect(at, at + firstLen), b = rect(at + last, at + needle.length);
  return {x1: a.left + 1, y1: a.top + a.height / 2, x2: b.right - 1, y2: b.top + b.height / 2};
}"""


def drag_select(page: Page, needle: str, nth: int = 0, *, kept: bool = True) -> None:
    """Selects a piece of the article's text with the mouse, from its first to its last character."""
    box = page.evaluate(RECTS, [needle, nth])
    page.mouse.move(box["x1"], box["y1"])
    page.mouse.down()
    page.mouse.move((box["x1"] + box["x2"]) / 2, (box["y1"] + box["y2"]) / 2)
    page.mouse.move(box["x2"], box["y2"])
    page.mouse.up()
    if kept:  # with a sticky label the selection becomes a span at once
        assert page.evaluate("getSelection().toString()") == needle


def body(page: Page):
    return page.locator("[data-article-body]")


def wait_for_version(page: Page, article: Article) -> None:
    """Waits until the page shows the article's version as stored now."""
    article.refresh_from_db()
    expect(body(page)).to_have_attribute("data-version", str(article.version))


def status(page: Page):
    return page.locator("#workspace-status[role=status]")


def alert(page: Page):
    return page.locator("#workspace-alert[role=alert]")


def assert_page_matches_database(page: Page, article: Article) -> None:
    """What the page shows is what is stored, with offsets that agree character for character."""
    spans = list(Span.objects.filter(article=article).select_related("label", "article"))
    marks = page.locator("[data-article-body] [data-span-id]")
    attributes = ["data-start", "data-end", "data-label"]
    shown = [(*(m.get_attribute(a) for a in attributes), m.text_content()) for m in marks.all()]
    assert shown == [(str(s.start), str(s.end), s.label.name, s.text) for s in spans]
    assert body(page).text_content() == article.body


def test_creating_spans_by_mouse_on_tricky_characters(new_page, editor, make_article):
    article = make_article(TRICKY, spans=[(TRICKY.index("Ana"), TRICKY.index("Ana") + 3, "PER")])
    page = new_page(editor, f"/articles/{article.pk}/")
    cases = [
        ("Kim Jong U", "1", "Kim Jong Un", "PER"),  # a half-selected word is extended
        ("& <Moscú>", "click:LOC", "Moscú", "LOC"),  # &, spaces, < and > are trimmed
        ("q\u0301ui", "4", "q\u0301uiere", "MISC"),  # a combining accent after astral characters
        ("São Paulo.", "2", "São Paulo", "LOC"),  # after a ZWJ emoji sequence
        ('"sí"', "4", "sí", "MISC"),
        ("🇰🇵", "4", "🇰🇵", "MISC"),
    ]
    for selected, how, text, label in cases:
        drag_select(page, selected)
        if how.startswith("click:"):
            page.click(f"[data-label-choice={how[6:]}]")
        else:
            page.keyboard.press(how)
        expect(status(page)).to_have_text(f"Added {label} “{text}”.")
        assert (text, label, "editor") in span_texts(article)
        created = Span.objects.get(article=article, start=TRICKY.index(text))
        assert TRICKY[created.start : created.end] == text
        mark = page.locator(f"[data-span-id='{created.pk}']")
        assert mark.text_content() == text
        expect(mark).to_have_class(re.compile(r"\bselected\b"))
    wait_for_version(page, article)
    assert_page_matches_database(page, article)
    assert SpanEvent.objects.filter(actor=editor, kind="created").count() == len(cases)


def test_a_selection_across_an_existing_span_is_refused_with_a_reason(new_page, editor, make_article):
    article = make_article("Vladimir Putin visitó Moscú ayer.", spans=[(0, 14, "PER")])
    page = new_page(editor, f"/articles/{article.pk}/")
    drag_select(page, "Putin visitó")
    page.keyboard.press("2")
    expect(alert(page)).to_contain_text("overlaps the PER span “Vladimir Putin” (0–14)")
    assert span_texts(article) == [("Vladimir Putin", "PER", "model")]
    assert page.locator("[data-span-id]").count() == 1


def test_relabelling_deleting_and_undoing_by_mouse(new_page, editor, make_article):
    article = make_article("Vladimir Putin visitó Moscú con Kim.", spans=[(0, 14, "PER"), (22, 27, "ORG")])
    page = new_page(editor, f"/articles/{article.pk}/")
    page.click("[data-span-id] >> text=Moscú")
    page.click("[data-label-choice=LOC]")
    expect(status(page)).to_have_text("“Moscú” is now LOC.")
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Moscú", "LOC", "model")]
    assert SpanEvent.objects.get(actor=editor).kind == "relabelled"

    page.click("[data-span-id] >> text=Vladimir Putin")
    page.click("[data-action=delete-span]")
    expect(status(page)).to_have_text("Deleted PER “Vladimir Putin”.")
    assert span_texts(article) == [("Moscú", "LOC", "model")]

    page.click("[data-action=undo]")
    expect(status(page)).to_have_text("Undone: deleted “Vladimir Putin”.")
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Moscú", "LOC", "model")]
    page.click("[data-action=undo]")
    expect(status(page)).to_have_text("Undone: relabelled “Moscú”.")
    assert span_texts(article) == [("Vladimir Putin", "PER", "model"), ("Moscú", "ORG", "model")]
    wait_for_version(page, article)
    assert_page_matches_database(page, article)


def highlighted(page, span):
    """The highlighted span in the page (focus moves after the key's event: wait on it, never read it once)."""
    return page.locator(f'[data-article-body] [data-span-id="{span.pk}"]')


def test_keyboard_only_correction(new_page, editor, make_article):
    body_text = "Dijo Kim Jong ayer en Seúl, y Lula calló."
    article = make_article(body_text, spans=[(5, 13, "PER"), (22, 26, "ORG"), (30, 34, "LOC")])
    page = new_page(editor, f"/articles/{article.pk}/")
    page.keyboard.press("ArrowRight")
    kim = article.spans.get(start=5)
    expect(highlighted(page, kim)).to_be_focused()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring

    page.keyboard.press("Shift+ArrowRight")  # the end moves one word right
    expect(status(page)).to_have_text("Resized to “Kim Jong ayer”.")
    page.keyboard.press("Shift+ArrowLeft")
    expect(status(page)).to_have_text("Resized to “Kim Jong”.")
    page.keyboard.press("Alt+ArrowRight")  # the start moves one word right
    expect(status(page)).to_have_text("Resized to “Jong”.")
    assert span_texts(article)[0] == ("Jong", "PER", "model")
    assert list(SpanEvent.objects.filter(actor=editor).values_list("kind", flat=True)) == ["resized"] * 3
    expect(highlighted(page, kim)).to_be_focused()  # focus stays on the entity being corrected

    page.keyboard.press("ArrowRight")
    page.keyboard.press("2")
    expect(status(page)).to_have_text("“Seúl” is now LOC.")
    page.keyboard.press("Tab")
    page.keyboard.press("a")
    expect(status(page)).to_have_text("Accepted LOC “Lula”.")
    page.keyboard.press("1")
    expect(status(page)).to_have_text("“Lula” is now PER.")
    page.keyboard.press("Delete")
    expect(status(page)).to_have_text("Deleted PER “Lula”.")
    assert span_texts(article) == [("Jong", "PER", "model"), ("Seúl", "LOC", "model")]
    page.keyboard.press("u")
    expect(status(page)).to_have_text("Undone: deleted “Lula”.")
    assert span_texts(article)[-1] == ("Lula", "PER", "model")

    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.locator("#help")).to_be_hidden()
    lula = article.spans.get(start=30)
    expect(highlighted(page, lula)).to_be_focused()  # the help gives the focus back to the entity

    page.keyboard.press("r")
    page.wait_for_url(re.compile(r"/articles/$"))  # no other article needs review: back to the list
    article.refresh_from_db()
    assert (article.status, article.reviewed_by) == ("reviewed", editor)
    expect(page.locator("[role=status]").first).to_contain_text("is reviewed")


def test_sticky_label_and_labelling_every_occurrence(new_page, editor, make_article):
    text = "Kim y Lula. Kim habló con Kimberly; Lula y Kim no."
    article = make_article(text)
    page = new_page(editor, f"/articles/{article.pk}/")
    page.keyboard.press("s")
    page.click("[data-label-choice=PER]")
    drag_select(page, "Lula", kept=False)
    expect(status(page)).to_have_text("Added PER “Lula”.")
    drag_select(page, "Kim", kept=False)
    expect(status(page)).to_have_text("Added PER “Kim”.")
    page.click("[data-action=label-everywhere]")
    expect(status(page)).to_have_text("Labelled 2 more “Kim” as PER.")
    assert [t for t, *_ in span_texts(article)] == ["Kim", "Lula", "Kim", "Kim"]
    assert SpanEvent.objects.filter(actor=editor, kind="created").count() == 4
    wait_for_version(page, article)
    assert_page_matches_database(page, article)


def test_dragging_an_edge_resizes_by_whole_words(new_page, editor, make_article):
    article = make_article("Dijo Kim Jong Un en Seúl.", spans=[(5, 8, "PER")])
    page = new_page(editor, f"/articles/{article.pk}/")
    mark = page.locator("[data-span-id]")
    mark.click()
    box = mark.bounding_box()
    target = page.evaluate(RECTS, ["Un", 0])
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(target["x2"] - 4, target["y2"])
    page.mouse.up()
    expect(status(page)).to_have_text("Resized to “Kim Jong Un”.")
    assert span_texts(article) == [("Kim Jong Un", "PER", "model")]
    assert SpanEvent.objects.get(actor=editor).kind == "resized"


def test_two_editors_conflict_and_the_later_one_is_told_and_refreshed(new_page, editor, other_editor, make_article):
    article = make_article("Putin visitó Moscú con Kim.", spans=[(0, 5, "PER"), (13, 18, "ORG")])
    mine = new_page(editor, f"/articles/{article.pk}/")
    theirs = new_page(other_editor, f"/articles/{article.pk}/")
    theirs.click("[data-span-id] >> text=Moscú")
    theirs.click("[data-label-choice=LOC]")
    expect(status(theirs)).to_have_text("“Moscú” is now LOC.")

    mine.click("[data-span-id] >> text=Moscú")
    mine.click("[data-action=delete-span]")
    expect(alert(mine)).to_contain_text("changed by erin")
    expect(alert(mine)).to_contain_text("your change was not saved")
    assert span_texts(article) == [("Putin", "PER", "model"), ("Moscú", "LOC", "model")]
    # The view now shows the other editor's change, and the next change goes through.
    wait_for_version(mine, article)
    expect(mine.locator("[data-span-id] >> text=Moscú")).to_have_attribute("data-label", "LOC")
    mine.click("[data-action=delete-span]")
    expect(status(mine)).to_have_text("Deleted LOC “Moscú”.")
    assert span_texts(article) == [("Putin", "PER", "model")]


# The text and its marks as the page shows them.
SHOWN = """() => [document.querySelector("[data-article-body]").textContent,
  [...document.querySelectorAll("[data-article-body] [data-span-id]")].map((m) => [m.dataset.spanId,
    m.dataset.start, m.dataset.end, m.dataset.label, m.textContent])]"""
IN_VIEW = """(element) => { const box = element.getBoundingClientRect();
  return box.height > 0 && box.top >= 0 && box.bottom <= window.innerHeight; }"""


@pytest.mark.parametrize("failure", ["offline", "timeout", "500", "signed out", "role taken away"])
def test_a_failed_change_leaves_the_text_and_says_in_view_it_was_not_saved(
    new_page, editor, make_article, failure, settings
):
    sentence = "Putin visitó Moscú con Kim. "
    article = make_article(
        sentence * 150, spans=[(i * len(sentence), i * len(sentence) + 5, "PER") for i in range(150)]
    )
    page = new_page(editor, f"/articles/{article.pk}/")
    page.evaluate(WATCH_SETTLING)
    before = page.evaluate(SHOWN)
    version = body(page).get_attribute("data-version")
    if failure == "offline":
        page.context.set_offline(True)
    elif failure == "timeout":
        page.route("**/spans/**", lambda route: None)  # never answered: htmx gives up after 10 s
    elif failure == "500":
        page.route("**/spans/**", lambda route: route.fulfill(status=500, body="<h1>Server Error (500)</h1>"))
    elif failure == "signed out":  # in another tab
        other = page.context.new_page()
        other.goto("/articles/")
        other.click("text=Sign out")
        # Closed once the sign-in page is in: Chromium drops a close that races a navigation's
        # commit, and Playwright's close then waits forever.
        other.wait_for_url(re.compile(r"/accounts/login/"))
        other.close()
    else:
        editor.groups.clear()
    last = page.locator("[data-span-id]").last
    last.scroll_into_view_if_needed()
    last.click()
    page.keyboard.press("2")
    expect(alert(page)).to_contain_text("Your change was NOT saved", timeout=15_000)  # htmx waits 10 s
    advice = {
        "offline": "the server did not answer. Check your connection and try again.",
        "timeout": "the server took too long to answer. Check your connection and try again.",
        "500": "the server failed (500",
        "signed out": "you are signed out. Sign in again in a new tab, then try again here",
        "role taken away": "you may not make this change (403). Reload the page, then try again.",
    }[failure]
    expect(alert(page)).to_contain_text(advice)
    assert alert(page).evaluate(IN_VIEW), "the message is in view, however far the page is scrolled"
    expect(status(page)).to_have_text("")
    # Nothing was swapped in: not a sign-in page, not an error page; the text is as it was.
    assert page.evaluate(SHOWN) == before
    assert body(page).get_attribute("data-version") == version
    assert page.locator("#login-form, form[action*=login]").count() == 0
    assert span_texts(article)[-1] == ("Putin", "PER", "model")
    if failure in ("offline", "timeout", "500"):
        # Once the server answers again, the next change goes through and the old alert goes.
        page.context.set_offline(False)
        page.unroute("**/spans/**")
        page.keyboard.press("2")
        expect(status(page)).to_have_text("“Putin” is now LOC.")
        expect(alert(page)).to_be_empty()
        assert span_texts(article)[-1] == ("Putin", "LOC", "model")


def test_reviewing_goes_to_the_next_article(new_page, editor, make_article):
    first = make_article("Putin habló.", spans=[(0, 5, "PER")])
    second = make_article("Kim calló.", spans=[(0, 3, "PER")])
    page = new_page(editor, f"/articles/{first.pk}/")
    first.refresh_from_db()
    assert first.status == "pre_annotated"  # opening it claimed nothing
    page.click("[data-action=mark-reviewed]")
    page.wait_for_url(f"**/articles/{second.pk}/")
    first.refresh_from_db()
    assert (first.status, first.reviewed_by, first.reviewed_at is not None) == ("reviewed", editor, True)
    expect(page.locator("[role=status]").first).to_contain_text("is reviewed")
    page.click("[data-action=next-article]")
    page.wait_for_url(re.compile(r"/articles/$"))


def test_a_long_article_stays_usable_and_keeps_scroll_and_focus(new_page, editor, make_article):
    words = [f"Palabra{i}" for i in range(20_000)]
    text = " ".join(words)
    spans, at = [], 0
    for i, word in enumerate(words):
        if i % 13 == 0 and len(spans) < 1500:
            spans.append((at, at + len(word), "PER"))
        at += len(word) + 1
    article = make_article(text, spans=spans)
    page = new_page(editor, f"/articles/{article.pk}/")
    assert page.locator("[data-article-body] [data-span-id]").count() == 1500
    target = article.spans.select_related("article").order_by("start")[1400]
    # The side list: texts by label with counts, the rest on demand, each text's occurrences when opened.
    expect(page.locator("#span-list [data-group]")).to_have_count(30)
    page.click("[data-action=show-all-entities]")
    expect(page.locator("#span-list [data-group]")).to_have_count(1500)
    group = page.locator(f"[data-group][data-text='{target.text}']")
    group.locator("summary").click()
    group.locator(f"[data-jump='{target.pk}']").click()  # jumps to the entity
    mark = page.locator(f"[data-span-id='{target.pk}']")
    expect(mark).to_be_focused()
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 10_000
    page.keyboard.press("2")
    expect(status(page)).to_contain_text("is now LOC")
    assert page.evaluate("window.scrollY") == scrolled
    expect(page.locator(f"[data-span-id='{target.pk}']")).to_be_focused()
    assert Span.objects.get(pk=target.pk).label.name == "LOC"
    page.goto("/articles/")  # a full-page screenshot of 20,000 words is more than the browser will draw


# Marks when each answer's htmx settling is over: htmx used to put the server's classes back then.
WATCH_SETTLING = """() => {
  const body = document.body;
  body.dataset.settled = "yes";
  document.addEventListener("workspace-answer", () => { body.dataset.settled = "no"; });
  document.addEventListener("htmx:afterSettle", () => {
    if (body.dataset.settled === "no") body.dataset.settled = "yes";
  });
}"""
SELECTION = """() => {
  const selected = [...document.querySelectorAll("[data-article-body] [data-span-id].selected")];
  const disabled = (action) => document.querySelector(`[data-action=${action}]`).disabled;
  return {
    selected: selected.map((m) => m.textContent),
    outline: selected.map((m) => getComputedStyle(m).outlineStyle),
    actionsDisabled: ["delete-span", "accept-span", "label-everywhere"].map(disabled),
  };
}"""


def selection_after_settling(page: Page) -> list[str]:
    """What is selected once the answer has settled: one entity, outlined with its actions enabled,
    or none with its actions disabled; never one without the other."""
    expect(page.locator("body")).to_have_attribute("data-settled", "yes")
    state = page.evaluate(SELECTION)
    if state["selected"]:
        assert len(state["selected"]) == 1 and state["outline"] == ["solid"], state
        assert state["actionsDisabled"] == [False, False, False], state
    else:
        assert state["actionsDisabled"] == [True, True, True], state
    return state["selected"]


def test_the_selected_entity_stays_selected_after_every_change(new_page, editor, make_article):
    text = "Vladimir Putin visitó Moscú con Kim Jong Un y Lula."
    article = make_article(text, spans=[(0, 14, "ORG"), (22, 27, "ORG"), (32, 43, "PER")])
    page = new_page(editor, f"/articles/{article.pk}/")
    page.evaluate(WATCH_SETTLING)
    page.click("[data-span-id] >> text=Moscú")
    steps = [
        ("2", "“Moscú” is now LOC.", ["Moscú"]),  # relabel
        ("a", "Accepted LOC “Moscú”.", ["Moscú"]),  # accept
        ("Shift+ArrowRight", "Resized to “Moscú con”.", ["Moscú con"]),
        ("Shift+ArrowLeft", "Resized to “Moscú”.", ["Moscú"]),
        ("Delete", "Deleted LOC “Moscú”.", ["Kim Jong Un"]),  # the next entity is selected
        ("u", "Undone: deleted “Moscú”.", ["Moscú"]),
        ("Tab", None, ["Kim Jong Un"]),
        ("Delete", "Deleted PER “Kim Jong Un”.", []),  # nothing follows: nothing is selected
    ]
    for key, message, selected in steps:
        page.keyboard.press(key)
        if message:
            expect(status(page)).to_have_text(message)
        assert selection_after_settling(page) == selected, key
    drag_select(page, "Lula")  # a new entity is selected once it is saved
    page.keyboard.press("1")
    expect(status(page)).to_have_text("Added PER “Lula”.")
    assert selection_after_settling(page) == ["Lula"]


def test_a_key_pressed_as_soon_as_a_change_is_answered_reaches_the_entity(new_page, editor, make_article):
    spans = [(5, 8, "PER"), (17, 21, "ORG"), (25, 29, "LOC")]
    article = make_article("Dijo Kim ayer en Seúl, y Lula calló.", spans=spans)
    page = new_page(editor, f"/articles/{article.pk}/")
    # Tab pressed the moment the answer is in, before the browser paints again: the fastest an
    # editor can be.
    page.evaluate("""() => document.addEventListener("workspace-answer", () => document.activeElement.dispatchEvent(
      new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true })), { once: true })""")
    seoul, lula = article.spans.get(start=17), article.spans.get(start=25)
    highlighted(page, seoul).focus()
    page.keyboard.press("2")
    expect(status(page)).to_have_text("“Seúl” is now LOC.")
    expect(highlighted(page, lula)).to_be_focused()  # the next entity, not the page's first control
    page.keyboard.press("a")
    expect(status(page)).to_have_text("Accepted LOC “Lula”.")


def selected(page: Page) -> dict | None:
    """The selected entity as the page shows it: its text, label and whether it is unconfirmed."""
    return page.evaluate("""() => {
      const mark = document.querySelector("[data-article-body] [data-span-id].selected");
      return mark && {id: mark.dataset.spanId, text: mark.textContent, label: mark.dataset.label,
                      proposed: mark.classList.contains("proposed")};
    }""")


def press_and_wait(page: Page, *keys: str) -> None:
    """Presses the keys; the last one changes the article: waits until the page shows the new version."""
    version = int(body(page).get_attribute("data-version"))
    for key in keys:
        page.keyboard.press(key)
    expect(body(page)).to_have_attribute("data-version", str(version + 1))


def test_the_sample_article_is_corrected_fully_without_the_mouse(new_page, editor, make_article):
    article = make_article(spanish_news.seed_article(), title="Kim Jong Un visita Rusia")
    preannotation.preannotate(Article.objects.filter(pk=article.pk))  # the real model's proposals
    proposed = article.spans.count()
    page = new_page(editor, f"/articles/{article.pk}/")
    page.evaluate(WATCH_SETTLING)
    page.keyboard.press("j")  # the first entity nobody has confirmed
    first = selected(page)
    page.keyboard.press(".")  # the next one with the same label, and back
    assert selected(page)["label"] == first["label"] and selected(page) != first
    page.keyboard.press(",")
    assert selected(page) == first

    fragments = re.compile(r"^(El|La|Los|Las) ")  # sentence pieces the model took for entities
    done = set()
    while True:
        entity = selected(page)
        if not entity or not entity["proposed"]:
            page.keyboard.press("j")
            expect(page.locator("body")).to_have_attribute("data-settled", "yes")
            entity = selected(page)
            if not entity or not entity["proposed"]:
                break
        text = entity["text"]
        if text == "Comercio":  # "Comercio e Industria", one organisation the model cut in two
            for key in ("t", "Shift+ArrowRight", "Shift+ArrowRight", "3"):
                page.keyboard.press(key)
            expect(alert(page)).to_contain_text("overlaps the")  # offered as a replacement
            press_and_wait(page, "Enter")
            expect(status(page)).to_have_text("Replaced with ORG “Comercio e Industria”.")
        elif text == "El portavoz del Kremlin":  # only "Kremlin" is an organisation
            for key in ("t", "Alt+ArrowRight", "Alt+ArrowRight", "Alt+ArrowRight", "3"):
                page.keyboard.press(key)
            expect(alert(page)).to_contain_text("overlaps the MISC span “El portavoz del Kremlin”")
            press_and_wait(page, "Enter")
            expect(status(page)).to_have_text("Replaced with ORG “Kremlin”.")
            done.add("Kremlin")
            break
        elif fragments.match(text) or text == "Dos":
            press_and_wait(page, "Delete")
        elif text == "Extremo Oriente":
            press_and_wait(page, "2")
        else:
            press_and_wait(page, "a")
        done.add(text)
    assert {"Comercio", "Kremlin", "Extremo Oriente"} <= done
    # The rest the model proposed is right: one key confirms it all; then review.
    page.keyboard.press("A")
    expect(status(page)).to_contain_text("entities of the model.")
    assert page.locator("[data-article-body] .proposed").count() == 0
    page.keyboard.press("r")
    page.wait_for_url(re.compile(r"/articles/$"))

    article.refresh_from_db()
    assert (article.status, article.reviewed_by) == ("reviewed", editor)
    assert not article.spans.untouched_model_output().exists()
    spans = span_texts(article)
    assert ("Comercio e Industria", "ORG", "editor") in spans and ("Kremlin", "ORG", "editor") in spans
    assert ("Extremo Oriente", "LOC", "model") in spans
    assert SpanEvent.objects.filter(article=article).exclude(actor=editor).count() == proposed  # the model's own
    assert set(SpanEvent.objects.filter(actor=editor).values_list("kind", flat=True)) == {
        "accepted",
        "relabelled",
        "deleted",
        "created",
    }

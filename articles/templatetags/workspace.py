"""The article text with its spans as marks, and the entity list, built in Python: a 20,000-word
article has thousands of segments, and one string join renders them in a few milliseconds where a
template loop takes ~100."""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from articles.workspace.page import Mark

register = template.Library()


def _text(text: str) -> str:
    # The standard library's escape, as Django's, without its lazy-string wrapper: it runs thousands
    # of times a page. An HTML parser turns a raw carriage return into a line feed; a character
    # reference survives, so the page's text (and every offset counted in it) stays the stored body's.
    return escape(text).replace("\r", "&#13;")


@register.simple_tag
def article_body(body: str, spans: list[Mark]) -> SafeString:
    """The body cut at span edges, each span a mark carrying the contract's data attributes."""
    out, at = [], 0
    for span in spans:
        out.append(_text(body[at : span.start]))
        proposed = " proposed" if span.proposed else ""
        out.append(
            f'<mark id="span-{span.pk}" class="span label-{span.label.pk}{proposed}" tabindex="-1"'
            f' data-span-id="{span.pk}" data-start="{span.start}" data-end="{span.end}"'
            f' data-label="{escape(span.label.name)}" data-origin="{span.origin}">'
            f"{_text(span.text)}</mark>"
        )
        at = span.end
    out.append(_text(body[at:]))
    return mark_safe("".join(out))  # noqa: S308 (every piece of text above is escaped)


@register.simple_tag
def entity_links(spans: list[Mark]) -> SafeString:
    """One list item per entity, linking to its mark in the text."""
    return mark_safe(  # noqa: S308 (the text is escaped)
        "".join(f'<li><a href="#span-{s.pk}" data-jump="{s.pk}">{_text(s.text)}</a></li>' for s in spans)
    )

"""The article text with its spans as marks, and the entity groups, built by string joins rather
than template loops: a long article has thousands of segments."""

from collections.abc import Sequence
from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from articles.workspace.page import Group, Segment

register = template.Library()


def _text(text: str) -> str:
    # No lazy-string wrapper: this runs thousands of times a page. A raw carriage return would be
    # parsed as a line feed; the reference keeps the page's text, and its offsets, the stored body's.
    return escape(text).replace("\r", "&#13;")


@register.simple_tag
def article_segments(body: str, segments: Sequence[Segment], oob: bool = False, prefix: str = "") -> SafeString:
    """Each segment cut at its spans' edges, each span a mark. ``oob`` swaps each into its namesake;
    ``prefix`` keeps ids unique where a page shows the text twice."""
    swap = ' hx-swap-oob="true"' if oob else ""
    out = []
    for segment in segments:
        out.append(f'<span class="seg" id="{prefix}seg-{segment.start}"{swap}>')
        at = segment.start
        for span in segment.marks:
            out.append(_text(body[at : span.start]))
            proposed = " proposed" if span.proposed else ""
            out.append(
                f'<mark id="{prefix}span-{span.pk}" class="span label-{span.label.pk}{proposed}" tabindex="-1"'
                f' data-span-id="{span.pk}" data-start="{span.start}" data-end="{span.end}"'
                f' data-label="{escape(span.label.name)}" data-origin="{span.origin}">'
                f"{_text(span.text)}</mark>"
            )
            at = span.end
        out.append(_text(body[at : segment.end]))
        out.append("</span>")
    return mark_safe("".join(out))  # noqa: S308 (every piece of text above is escaped)


@register.simple_tag
def entity_groups(groups: Sequence[Group], label: str) -> SafeString:
    """One item per text of a label, with its count; kept minimal because a change resends whole lists."""
    label = escape(label)
    return mark_safe(  # noqa: S308 (the text is escaped)
        "".join(
            f'<li><details data-group data-label="{label}" data-text="{escape(g.text)}"><summary>'
            f'{_text(g.text)} <span class="count">{g.occurrences}</span></summary></details></li>'
            for g in groups
        )
    )

"""Charts for the quality page, drawn as SVG on the server: no script, nothing for the CSP to refuse.

Colours are SVG presentation attributes, not style attributes, which the strict CSP refuses.
"""

from collections.abc import Mapping, Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

# Distinguishable for the common colour-blindnesses (Okabe–Ito).
PALETTE = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#000000"]
ROW = 18
LABEL_WIDTH = 110
PLOT_WIDTH = 360


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _legend(series: Sequence[str], y: int, left: int = LABEL_WIDTH, step: int = 110) -> SafeString:
    return format_html_join(
        "",
        '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>',
        (
            (left + i * step, y, PALETTE[i % len(PALETTE)], left + i * step + 14, y + 9, name)
            for i, name in enumerate(series)
        ),
    )


def grouped_bars(title: str, rows: Sequence[tuple[str, Sequence[float | None]]], series: Sequence[str]) -> SafeString:
    """Horizontal bars, one group per row (a label), one bar per series (precision, recall, F1), 0 to 100 %."""
    group = ROW * len(series) + 8
    height = 24 + group * len(rows) + 20
    parts = [_legend(series, 4)]
    for r, (name, values) in enumerate(rows):
        top = 24 + r * group
        parts.append(format_html('<text x="0" y="{}" font-size="12">{}</text>', top + group // 2, name))
        for i, value in enumerate(values):
            y = top + i * ROW
            width = round((value or 0) * PLOT_WIDTH)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>'
                    '<text x="{}" y="{}" font-size="11">{}</text>',
                    LABEL_WIDTH, y, width, ROW - 4, PALETTE[i % len(PALETTE)], name, series[i], _pct(value),
                    LABEL_WIDTH + width + 4, y + ROW - 7, _pct(value),
                )
            )  # fmt: skip
    return _svg(title, LABEL_WIDTH + PLOT_WIDTH + 50, height, parts)


def lines(title: str, xs: Sequence[str], series: Mapping[str, Sequence[float | None]]) -> SafeString:
    """One line per series (a model version, a label) over the x values (days, versions), 0 to 100 %."""
    width, height, left, top, plot_h = 520, 220, 40, 24, 150
    step = (width - left - 20) / max(len(xs) - 1, 1)
    parts = [_legend(list(series), 4, left=left, step=min(110, (width - left) // max(len(series), 1)))]
    for tick in (0, 0.5, 1):
        y = top + plot_h - tick * plot_h
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#ccc"/><text x="0" y="{}" font-size="11">{}</text>',
                left, width - 10, y, y, y + 4, _pct(tick),
            )
        )  # fmt: skip
    for i, x in enumerate(xs):
        if len(xs) <= 8 or i % (len(xs) // 8 + 1) == 0:
            tick_x = round(left + i * step)
            parts.append(format_html('<text x="{}" y="{}" font-size="10">{}</text>', tick_x, top + plot_h + 16, x))
    for s, (name, values) in enumerate(series.items()):
        points = [
            (round(left + i * step, 1), round(top + plot_h - v * plot_h, 1))
            for i, v in enumerate(values)
            if v is not None
        ]
        color = PALETTE[s % len(PALETTE)]
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                " ".join(f"{x},{y}" for x, y in points), color,
            )
        )  # fmt: skip
        parts.append(
            format_html_join(
                "",
                '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}</title></circle>',
                ((x, y, color, name) for x, y in points),
            )
        )
    return _svg(title, width, height, parts)


def columns(title: str, rows: Sequence[tuple[str, int]]) -> SafeString:
    """Vertical bars of counts (reviewed articles per day)."""
    width, height, top, plot_h = 520, 180, 10, 130
    most = max((n for _, n in rows), default=0) or 1
    bar = (width - 20) / max(len(rows), 1)
    parts = []
    for i, (name, n) in enumerate(rows):
        h = round(n / most * plot_h)
        x = round(10 + i * bar, 1)
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>',
                x, top + plot_h - h, max(round(bar - 2, 1), 1), h, PALETTE[0], name, n,
            )
        )  # fmt: skip
        if len(rows) <= 10 or i % (len(rows) // 10 + 1) == 0:
            parts.append(format_html('<text x="{}" y="{}" font-size="10">{}</text>', x, top + plot_h + 14, name))
    return _svg(title, width, height, parts)


def _svg(title: str, width: int | float, height: int | float, parts: list[SafeString]) -> SafeString:
    """The chart in a figure whose caption, its title, is on the page for every reader (an SVG title is not)."""
    return format_html(
        '<figure class="chart"><figcaption>{}</figcaption>'
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {} {}" width="{}" height="{}">'
        "<title>{}</title>{}</svg></figure>",
        title, width, height, width, height, title, mark_safe("".join(parts)),  # noqa: S308 (each part is format_html output)
    )  # fmt: skip

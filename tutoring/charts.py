"""Server-drawn SVG bar charts: no JavaScript, no chart library, styled by lantern.css
(`.chart` > svg with rect.chart-bar, text.chart-label, text.chart-value, line.chart-axis).

Every label and title is HTML-escaped here, so the returned markup is safe to put in a page
as it is. Each bar carries a <title> (a tooltip, and what screen readers announce), and the
chart itself is an image labelled by its own <title> and <desc>; pages also offer the
numbers as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# A narrow canvas: scaled down to a 360 px phone, 12 px text stays readable.
WIDTH = 400
HEIGHT = 180
_TOP = 22  # room for the scale label above the tallest bar
_BOTTOM = 24  # room for the day labels
_LEFT = 8
_GAP_RATIO = 0.2


@dataclass(frozen=True)
class Bar:
    label: str  # short text under the bar ("" for none)
    value: float
    title: str  # the full accessible description, e.g. "3 May: 1,204 tokens"


def _num(value: float) -> str:
    # Coordinates with two decimals: stable output for tests, crisp enough on screen.
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str = "",
    max_label: str = "",
    label_every: int = 1,
) -> SafeString:
    """An SVG bar chart of `bars`, left to right.

    `chart_id` must be unique on the page (it prefixes the ids of the title and
    description). `max_label` is written above the tallest bar as the scale (e.g. "1,204");
    `label_every` shows only every n-th label (and always the last) so 30 days stay
    readable on a phone. All bars zero: an empty axis, never a division by zero.
    """
    plot_height = HEIGHT - _TOP - _BOTTOM
    baseline = HEIGHT - _BOTTOM
    slot = (WIDTH - _LEFT) / max(len(bars), 1)
    bar_width = slot * (1 - _GAP_RATIO)
    peak = max((bar.value for bar in bars), default=0)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{escape(title_id)}" aria-describedby="{escape(desc_id)}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]
    peak_index = -1
    for index, bar in enumerate(bars):
        height = (bar.value / peak) * plot_height if peak > 0 else 0
        x = _LEFT + index * slot + (slot - bar_width) / 2
        if peak > 0 and bar.value == peak and peak_index < 0:
            peak_index = index
        parts.append(
            f"<g><title>{escape(bar.title)}</title>"
            f'<rect class="chart-bar" x="{_num(x)}" y="{_num(baseline - height)}" '
            f'width="{_num(bar_width)}" height="{_num(height)}"/></g>'
        )
        every = max(label_every, 1)
        to_last = len(bars) - 1 - index
        # The last bar is always labelled; a regular label too close to it is skipped.
        if bar.label and (to_last == 0 or (index % every == 0 and to_last * 2 >= every)):
            parts.append(
                f'<text class="chart-label" x="{_num(x + bar_width / 2)}" y="{HEIGHT - 6}" '
                f'text-anchor="middle" aria-hidden="true">{escape(bar.label)}</text>'
            )
    parts.append(
        f'<line class="chart-axis" x1="{_LEFT}" y1="{baseline}" x2="{WIDTH}" y2="{baseline}"/>'
    )
    if peak_index >= 0 and max_label:
        x = _LEFT + peak_index * slot + slot / 2
        anchor = "end" if peak_index > len(bars) * 0.8 else "start" if peak_index < 2 else "middle"
        parts.append(
            f'<text class="chart-value" x="{_num(x)}" y="{_TOP - 6}" text-anchor="{anchor}" '
            f'aria-hidden="true">{escape(max_label)}</text>'
        )
    parts.append("</svg>")
    # Safe: every piece of text above went through escape(); the rest is our own markup.
    return mark_safe("".join(parts))  # noqa: S308

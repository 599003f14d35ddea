"""Pictures where people would rather look: the skill ratings of a reflection (compared with the
last time) and the wallet's money per funder and expiry date, as PNG.

matplotlib (Agg, the object API: no pyplot, no global state) is imported only when a chart is
drawn, so a process that never draws one does not carry it. Every word in a chart comes in
as an argument (rendered from dialogues/responses*.yml by the caller); the text summary the
bot sends stays the full information, the picture is an extra.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Okabe-Ito colours: distinguishable with colour blindness, dark enough on white.
NOW_COLOUR = "#0072B2"
BEFORE_COLOUR = "#B8B8B8"
FUNDER_COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
SOON_EDGE = "#D55E00"
WIDTH_INCHES = 7.0
TOP_INCHES = 0.55
BOTTOM_INCHES = 0.75
ROW_INCHES = 0.62
LEFT_SHARE = 0.33
LEGEND_COLUMNS = 3
LEGEND_ROW_INCHES = 0.28
DPI = 100
LABEL_WIDTH = 26  # characters per line of a bar label


@dataclass(frozen=True)
class SkillBar:
    label: str
    now: int | None  # 1-4, None: "weet ik niet"
    before: int | None = None


@dataclass(frozen=True)
class MoneyBar:
    label: str  # the expiry date, or "no end date"
    cents: int
    funder: str
    soon: bool = False


@dataclass(frozen=True)
class SkillChartTexts:
    title: str
    now: str
    before: str | None  # legend for the previous reflection, None: no earlier one
    scale: tuple[str, str, str, str]  # what 1, 2, 3 and 4 mean


@dataclass(frozen=True)
class MoneyChartTexts:
    title: str
    amount: str  # axis label
    soon: str  # legend for money that expires soon


def _figure(rows: int, legend_rows: int) -> tuple[Any, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    bottom = BOTTOM_INCHES + LEGEND_ROW_INCHES * legend_rows
    height = TOP_INCHES + bottom + ROW_INCHES * max(rows, 1)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI)
    FigureCanvasAgg(figure)
    # Fixed margins instead of tight_layout (which draws the figure once more): the labels
    # are wrapped to LABEL_WIDTH characters, so the left margin fits them.
    figure.subplots_adjust(
        left=LEFT_SHARE,
        right=0.97,
        top=1 - TOP_INCHES / height,
        bottom=bottom / height,
    )
    axes = figure.add_subplot()
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(axis="y", length=0)
    return figure, axes


def _png(figure: Any) -> bytes:
    buffer = io.BytesIO()
    # Fast zlib: a chart is mostly flat colour, so the file stays small anyway.
    figure.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": 3})
    return buffer.getvalue()


def _legend(figure: Any, handles: Sequence[Any], labels: Sequence[str]) -> None:
    """At the bottom of the picture, under the axis: never over a bar."""
    figure.legend(
        handles,
        labels,
        loc="lower left",
        bbox_to_anchor=(0.02, 0.01),
        ncols=LEGEND_COLUMNS,
        fontsize=9,
        frameon=False,
    )


def _legend_rows(entries: int) -> int:
    return -(-entries // LEGEND_COLUMNS)


def _wrap(label: str) -> str:
    return "\n".join(textwrap.wrap(label, LABEL_WIDTH)[:3]) or label


def skills_chart(bars: Sequence[SkillBar], texts: SkillChartTexts) -> bytes:
    """Horizontal bars 1-4 per skill group; the previous rating as a grey bar beside it."""
    has_before = texts.before is not None and any(b.before is not None for b in bars)
    figure, axes = _figure(len(bars), _legend_rows(2 if has_before else 1))
    rows = list(range(len(bars)))[::-1]  # the first skill on top
    height = 0.38 if has_before else 0.6
    offset = height / 2 if has_before else 0.0
    axes.barh(
        [y + offset for y in rows],
        [b.now or 0 for b in bars],
        height=height,
        color=NOW_COLOUR,
        label=texts.now,
    )
    if has_before:
        axes.barh(
            [y - offset for y in rows],
            [b.before or 0 for b in bars],
            height=height,
            color=BEFORE_COLOUR,
            label=texts.before,
        )
    for y, bar in zip(rows, bars, strict=True):
        if bar.now:
            axes.text(bar.now + 0.05, y + offset, str(bar.now), va="center", fontsize=10)
    axes.set_yticks(rows, [_wrap(b.label) for b in bars], fontsize=10)
    axes.set_xlim(0, 4.4)
    axes.set_xticks(
        [1, 2, 3, 4], [f"{n}\n{t}" for n, t in zip(range(1, 5), texts.scale, strict=True)]
    )
    axes.tick_params(axis="x", labelsize=9)
    axes.set_title(texts.title, fontsize=13, loc="left")
    handles, labels = axes.get_legend_handles_labels()
    _legend(figure, handles, labels)
    return _png(figure)


def money_chart(bars: Sequence[MoneyBar], texts: MoneyChartTexts) -> bytes:
    """A bar per expiry date (soonest on top), coloured per funder, the amount at its end."""
    funders = list(dict.fromkeys(b.funder for b in bars))
    soon = any(b.soon for b in bars)
    figure, axes = _figure(len(bars), _legend_rows(len(funders) + soon))
    rows = list(range(len(bars)))[::-1]
    colour = {f: FUNDER_COLOURS[i % len(FUNDER_COLOURS)] for i, f in enumerate(funders)}
    euros = [b.cents / 100 for b in bars]
    top = max(euros, default=1.0) or 1.0
    for y, bar, value in zip(rows, bars, euros, strict=True):
        axes.barh(
            y,
            value,
            height=0.6,
            color=colour[bar.funder],
            edgecolor=SOON_EDGE if bar.soon else "none",
            linewidth=2.5 if bar.soon else 0,
            label=bar.funder,
        )
        axes.text(value + top * 0.02, y, _euro_text(bar.cents), va="center", fontsize=10)
    axes.set_yticks(rows, [_wrap(b.label) for b in bars], fontsize=10)
    axes.set_xlim(0, top * 1.3)
    axes.set_xlabel(texts.amount, fontsize=9)
    axes.set_title(texts.title, fontsize=13, loc="left")
    handles, labels = axes.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    if soon:
        from matplotlib.patches import Patch

        unique[texts.soon] = Patch(facecolor="white", edgecolor=SOON_EDGE, linewidth=2.5)
    _legend(figure, list(unique.values()), list(unique.keys()))
    return _png(figure)


def _euro_text(cents: int) -> str:
    from actions.formatting import euro

    return euro(cents)

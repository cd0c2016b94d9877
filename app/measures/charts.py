"""Bar charts of measures as plain SVG geometry (drawn server-side: no script, nothing from elsewhere).

Every chart repeats figures that are also in an accessible table beside it, so the SVG is an image with a title.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.measures.compute import Figure, Results
from app.measures.definition import COUNTED, Median, Rate, Share

LABEL_WIDTH, BAR_AREA, VALUE_WIDTH, ROW_HEIGHT, BAR_HEIGHT = 210, 330, 80, 26, 18


@dataclass(frozen=True)
class Bar:
    label: str
    text: str  # the value as shown, or [c], or "–"
    y: int
    width: float


@dataclass(frozen=True)
class Chart:
    title: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return ROW_HEIGHT * len(self.bars) + 4

    width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH
    bar_x = LABEL_WIDTH
    value_x = LABEL_WIDTH + BAR_AREA + 6
    bar_height = BAR_HEIGHT


def charts_for(results: Results, withheld: str) -> list[Chart]:
    """One chart per measure across the groups when broken down; otherwise one chart of the counts."""
    if results.by:
        return [_chart(f"{results.figures[i].measure.title} by {results.by.replace('_', ' ')}",
                       [(group_name(results.by, g.label), g.figures[i]) for g in results.groups], withheld)
                for i in range(len(results.figures))]
    counted = [(f.measure.title, f) for f in results.figures if isinstance(f.measure, COUNTED)]
    return [_chart("Counts for the period", counted, withheld)] if counted else []


def _chart(title: str, rows: list[tuple[str, Figure]], withheld: str) -> Chart:
    largest = max((f.value for _, f in rows if f.value), default=0) or 1
    return Chart(title, [Bar(label[:34], display(f, withheld), i * ROW_HEIGHT + 4,
                             BAR_AREA * (f.value or 0) / largest) for i, (label, f) in enumerate(rows)])


def group_name(by: str, label: str) -> str:
    """A group as people read it: months as "December 2025" (the API keeps 2025-12)."""
    if by == "month":
        return date.fromisoformat(f"{label}-01").strftime("%B %Y")
    return label


def display(figure: Figure, withheld: str) -> str:
    """A figure as people read it: 1,234; 36.1%; 14 days; [c] when withheld; – when there is nothing to measure."""
    if figure.suppressed:
        return withheld
    if figure.value is None:
        return "–"
    if isinstance(figure.measure, Share):
        return f"{figure.value:.1f}%"
    if isinstance(figure.measure, Median):
        return f"{figure.value:g} days"
    if isinstance(figure.measure, Rate):
        return f"{figure.value:.1f}"
    return f"{figure.value:,}"

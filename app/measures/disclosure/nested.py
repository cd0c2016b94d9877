"""Disclosure control across periods: months, quarters and financial years decided together.

Answers over whole periods nest: a quarter holds three months, a financial year four quarters, and a run of periods
(April 2024 to September 2025) holds whole years, quarters and months. Were each answer decided alone, the
difference of two (a quarter less two of its months) would give away the third month, withheld or not. So every
count is decided once, in one hierarchy per financial year, and every answer is read from it:

1. The financial year's row is decided alone, as a table without groups (app.measures.disclosure.suppress).
2. Its four quarters are the groups of a table whose TOTAL row is the year as decided; each quarter's three months
   likewise under the quarter as decided. Secondary suppression in each table keeps the year (or the quarter) less
   its published parts from giving away a withheld part.
3. Where a quarter's row withholds any cell of a nesting tree of measures (referrals with the repeat referrals
   within them), every cell of that tree is withheld in its months (and its groups, rule 5): a withheld quarter
   could otherwise be added up from its months, and what protects a small quarter in its year's table (moving it,
   and another withheld quarter the other way) must be free to move their months too. A tree the quarter publishes
   whole is decided by the table below it, which keeps the quarter's published figures fixed. A year's withheld
   cells are bound by nothing above them, so its quarters' table needs no such rule.
4. A run of periods is cut into the coarsest whole periods it holds (years, then quarters, then months), and each of
   its figures is published only when every piece publishes it: it is then their sum, which tells nobody anything
   the pieces do not. So any answer, and any difference or sum of answers, is arithmetic on the hierarchy's
   published cells, which the tables above protect.
5. Breakdowns by group (neighbourhood, agency) are decided per quarter, under the quarter's row as in 2 and 3; a
   run of whole quarters publishes a group's figure only when every quarter publishes it (its sum), as in 4.

Everything here is arithmetic on plain dicts: app.measures.compute fetches the counts and applies the result.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from app.measures.disclosure import suppress
from app.measures.disclosure.table import TOTAL, CountTable

#: The counts of one period or group, by column.
Counts = Mapping[str, int]
#: A whole period: its grain ("year", "quarter" or "month") and its first day.
Piece = tuple[str, date]
MONTHS = {"year": 12, "quarter": 3, "month": 1}


@dataclass(frozen=True)
class Shape:
    """The columns of a panel's counts and how they relate, as a CountTable gives them."""

    columns: tuple[str, ...]
    nested: Mapping[str, str] = field(default_factory=dict)
    k: Mapping[str, int] = field(default_factory=dict)
    exempt: frozenset[str] = frozenset()

    def root(self, column: str) -> str:
        while column in self.nested:
            column = self.nested[column]
        return column

    def trees_of(self, columns: Iterable[str]) -> frozenset[str]:
        """Every column in the same nesting tree as any of the columns."""
        roots = {self.root(c) for c in columns}
        return frozenset(c for c in self.columns if self.root(c) in roots)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)


def pieces(first: date, last: date) -> list[Piece]:
    """Cut the months first..last (each the first day of its month) into whole years, then quarters, then months."""
    out, m, end = [], month_index(first), month_index(last)
    while m <= end:
        day = month_of(m)
        for grain in ("year", "quarter", "month"):
            size = MONTHS[grain]
            starts = (grain == "month" or (grain == "quarter" and day.month in (1, 4, 7, 10))
                      or (grain == "year" and day.month == 4))
            if starts and m + size - 1 <= end:
                out.append((grain, day))
                m += size
                break
    return out


def _parts(piece: Piece) -> list[Piece]:
    grain, day = piece
    if grain == "year":
        return [("quarter", month_of(month_index(day) + 3 * i)) for i in range(4)]
    if grain == "quarter":
        return [("month", month_of(month_index(day) + i)) for i in range(3)]
    return []


def _add(counts: Iterable[Counts], columns: tuple[str, ...]) -> dict[str, int]:
    total = dict.fromkeys(columns, 0)
    for row in counts:
        for c in columns:
            total[c] += int(row[c])
    return total


def decide_under(shape: Shape, whole: Counts, withheld: frozenset[str], groups: Mapping[str, Counts], *,
                 follow: bool = True) -> dict[str, frozenset[str]]:
    """The withheld columns of each group under a row decided already (rules 2 and 3).

    follow: the row's withheld cells are held in place by a table above it (a quarter's, by its year's), so the groups
    withhold the whole of each tree the row withholds any of (rule 3). A year's withheld cells are free.
    """
    if not groups:
        return {}
    values = {(TOTAL, c): int(whole[c]) for c in shape.columns}
    values.update({(label, c): int(row[c]) for label, row in groups.items() for c in shape.columns})
    table = CountTable(rows=tuple(groups), columns=shape.columns, values=values, nested=shape.nested, k=shape.k,
                       exempt=shape.exempt)
    hidden = suppress(table, total_hidden=withheld)
    trees = shape.trees_of(withheld) - shape.exempt if follow else frozenset()
    return {label: frozenset(c for c in shape.columns if (label, c) in hidden or c in trees) for label in groups}


@dataclass
class Hierarchy:
    """Every whole period's counts and withheld columns, for the financial years decided."""

    shape: Shape
    values: dict[Piece, dict[str, int]] = field(default_factory=dict)
    withheld: dict[Piece, frozenset[str]] = field(default_factory=dict)

    def run(self, first: date, last: date) -> tuple[dict[str, int], frozenset[str]]:
        """A run of whole months' counts and withheld columns (rule 4)."""
        cut = pieces(first, last)
        total = _add((self.values[p] for p in cut), self.shape.columns)
        return total, frozenset().union(*(self.withheld[p] for p in cut))


def decide_years(shape: Shape, months: Mapping[date, Counts], first: date, last: date) -> Hierarchy:
    """Decide every financial year from the one holding `first` to the one holding `last`, top down (rules 1-3);
    months not given count zero."""
    zero = dict.fromkeys(shape.columns, 0)
    decided = Hierarchy(shape)
    for start in (date(y, 4, 1) for y in range(year_start(first).year, year_start(last).year + 1)):
        year = ("year", start)
        for quarter in _parts(year):
            for month in _parts(quarter):
                decided.values[month] = _add([months.get(month[1], zero)], shape.columns)
            decided.values[quarter] = _add((decided.values[m] for m in _parts(quarter)), shape.columns)
        decided.values[year] = _add((decided.values[q] for q in _parts(year)), shape.columns)
        decided.withheld[year] = _alone(shape, decided.values[year])
        _decide_parts(decided, year)
    return decided


def _alone(shape: Shape, counts: Counts) -> frozenset[str]:
    table = CountTable(rows=(), columns=shape.columns, values={(TOTAL, c): int(counts[c]) for c in shape.columns},
                       nested=shape.nested, k=shape.k, exempt=shape.exempt)
    return frozenset(c for _, c in suppress(table))


def _decide_parts(decided: Hierarchy, piece: Piece) -> None:
    parts = _parts(piece)
    if not parts:
        return
    labels = {p[1].isoformat(): p for p in parts}
    under = decide_under(decided.shape, decided.values[piece], decided.withheld[piece],
                         {label: decided.values[p] for label, p in labels.items()}, follow=piece[0] != "year")
    for label, part in labels.items():
        decided.withheld[part] = under[label]
        _decide_parts(decided, part)


def with_every_group(shape: Shape, quarters: Mapping[date, Mapping[str, Counts]]) -> dict[date, dict[str, Counts]]:
    """Every group of the run in every quarter, with zeros where it had nothing: a quarter that withholds a tree
    must not say which groups had none of it."""
    labels = sorted({label for groups in quarters.values() for label in groups})
    zero = dict.fromkeys(shape.columns, 0)
    return {q: {label: groups.get(label, zero) for label in labels} for q, groups in quarters.items()}


def decide_groups(hierarchy: Hierarchy, quarters: Mapping[date, Mapping[str, Counts]]
                  ) -> dict[date, dict[str, frozenset[str]]]:
    """Each quarter's groups' withheld columns, under the quarter as decided (rule 5); every quarter must hold
    every group (with_every_group)."""
    return {q: decide_under(hierarchy.shape, hierarchy.values["quarter", q], hierarchy.withheld["quarter", q],
                            groups) for q, groups in quarters.items()}


def run_groups(shape: Shape, quarters: Mapping[date, Mapping[str, Counts]],
               withheld: Mapping[date, Mapping[str, frozenset[str]]]
               ) -> tuple[dict[str, dict[str, int]], dict[str, frozenset[str]]]:
    """A run of whole quarters' counts and withheld columns per group: a sum, where every quarter publishes it."""
    labels = sorted({label for groups in quarters.values() for label in groups})
    values = {label: _add((groups[label] for groups in quarters.values()), shape.columns) for label in labels}
    hidden = {label: frozenset().union(*(withheld[q][label] for q in quarters)) for label in labels}
    return values, hidden

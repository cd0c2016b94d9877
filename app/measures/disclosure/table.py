"""The table of counts as given (CountTable), its validation, and the grid by index that the search works on."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

TOTAL = "__total__"
DEFAULT_K = 5


@dataclass(frozen=True)
class CountTable:
    """Counts by group (rows) and measure (columns); values also hold the TOTAL row's counts."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: Mapping[tuple[str, str], int]
    nested: Mapping[str, str] = field(default_factory=dict)
    k: Mapping[str, int] = field(default_factory=dict)
    exempt: frozenset[str] = frozenset()


class _Grid:
    """The table by index: rows 0..groups-1 are the groups and row `groups` is TOTAL; columns keep their order."""

    def __init__(self, columns: tuple[str, ...], x: list[list[int]], parent: list[int], k: list[int],
                 exempt: list[bool]):
        self.columns, self.x, self.parent, self.k, self.exempt = columns, x, parent, k, exempt
        self.groups = len(x) - 1
        self.total = self.groups
        n = len(columns)
        self.children = [tuple(c for c in range(n) if parent[c] == p) for p in range(n)]
        self.ancestors = [self._ancestors(c) for c in range(n)]
        self.subtree = [self._subtree(c) for c in range(n)]
        roots = [c if not self.ancestors[c] else self.ancestors[c][-1] for c in range(n)]
        self.tree = [self.subtree[roots[c]] for c in range(n)]
        self.pairs = tuple((c, a) for c in range(n) for a in self.ancestors[c])
        self.pairs_of = [tuple(pair for pair in self.pairs if c in pair) for c in range(n)]
        # Per column, the groups by what withholding their cell costs: zeros last, then smallest count, then order.
        self.cheapest_first = [sorted(range(self.groups), key=lambda r, c=c: (x[r][c] == 0, x[r][c], r))
                               for c in range(n)]

    def _ancestors(self, c: int) -> tuple[int, ...]:
        """The column's ancestors, nearest first."""
        chain = []
        while self.parent[c] >= 0:
            c = self.parent[c]
            chain.append(c)
        return tuple(chain)

    def _subtree(self, c: int) -> tuple[int, ...]:
        """The column and its descendants, each after its parent."""
        order = [c]
        for node in order:
            order.extend(self.children[node])
        return tuple(order)

    def without_groups(self) -> _Grid:
        """The same columns with the TOTAL row alone, as published without a breakdown."""
        return _Grid(self.columns, [list(self.x[self.total])], self.parent, self.k, self.exempt)

    def small(self, value: int, column: int) -> bool:
        """True for a count from 1 to k-1 of the column."""
        return 1 <= value < self.k[column]


def _validated(table: CountTable) -> _Grid:
    """Check the table's invariants and index it; raise ValueError on any breach."""
    rows, columns = tuple(table.rows), tuple(table.columns)
    _check_labels(rows, "row")
    _check_labels(columns, "column")
    if TOTAL in rows:
        raise ValueError(f"{TOTAL!r} is the TOTAL row's label, not a group's")
    index = {name: i for i, name in enumerate(columns)}
    parent = _parents(table.nested, index)
    k = [DEFAULT_K] * len(columns)
    for name, threshold in table.k.items():
        if name not in index:
            raise ValueError(f"threshold for unknown column {name!r}")
        if not _is_count(threshold) or threshold < 1:
            raise ValueError(f"threshold for {name!r} must be an integer >= 1, not {threshold!r}")
        k[index[name]] = threshold
    unknown = set(table.exempt) - set(columns)
    if unknown:
        raise ValueError(f"exempt columns not in the table: {sorted(unknown)}")
    exempt = [name in table.exempt for name in columns]
    x = _counts(table.values, (*rows, TOTAL), columns)
    grid = _Grid(columns, x, parent, k, exempt)
    _check_sums(grid, rows)
    _check_nesting(grid, (*rows, TOTAL))
    return grid


def _check_labels(labels: tuple[str, ...], kind: str) -> None:
    """Labels are distinct strings."""
    if not all(isinstance(label, str) for label in labels):
        raise ValueError(f"{kind} labels must be strings")
    if len(set(labels)) != len(labels):
        raise ValueError(f"{kind} labels must be distinct")


def _is_count(value: object) -> bool:
    """True for a plain int (a bool is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _parents(nested: Mapping[str, str], index: dict[str, int]) -> list[int]:
    """Each column's parent index (-1 for none), refusing unknown columns and cycles."""
    parent = [-1] * len(index)
    for child, par in nested.items():
        if child not in index or par not in index:
            raise ValueError(f"nesting {child!r} -> {par!r} names a column not in the table")
        parent[index[child]] = index[par]
    for start in range(len(parent)):
        seen, c = {start}, parent[start]
        while c >= 0:
            if c in seen:
                raise ValueError("nesting has a cycle")
            seen.add(c)
            c = parent[c]
    return parent


def _counts(values: Mapping[tuple[str, str], int], rows: tuple[str, ...], columns: tuple[str, ...]) -> list[list[int]]:
    """The values as rows of counts; every (row, column) present, nothing else, each an int >= 0."""
    expected = {(r, c) for r in rows for c in columns}
    extra = set(values) - expected
    if extra:
        raise ValueError(f"values for cells not in the table: {sorted(extra, key=repr)[:3]}")
    x = []
    for r in rows:
        line = []
        for c in columns:
            if (r, c) not in values:
                raise ValueError(f"no value for ({r!r}, {c!r})")
            v = values[r, c]
            if not _is_count(v) or v < 0:
                raise ValueError(f"value for ({r!r}, {c!r}) must be an int >= 0, not {v!r}")
            line.append(v)
        x.append(line)
    return x


def _check_sums(grid: _Grid, rows: tuple[str, ...]) -> None:
    """With groups, each column's TOTAL is the sum of its groups."""
    if not rows:
        return
    for c, name in enumerate(grid.columns):
        added = sum(grid.x[r][c] for r in range(grid.groups))
        if added != grid.x[grid.total][c]:
            raise ValueError(f"TOTAL of {name!r} is {grid.x[grid.total][c]}, its groups add up to {added}")


def _check_nesting(grid: _Grid, labels: tuple[str, ...]) -> None:
    """In every row a child counts no more than its parent."""
    for r, line in enumerate(grid.x):
        for c, p in enumerate(grid.parent):
            if p >= 0 and line[c] > line[p]:
                raise ValueError(f"in row {labels[r]!r}, {grid.columns[c]!r} ({line[c]}) exceeds its parent "
                                 f"{grid.columns[p]!r} ({line[p]})")

"""Statistical disclosure control: which cells of a table of counts to withhold before it is published.

A table counts cases by group (its rows, e.g. neighbourhoods) and by measure (its columns), with the whole-period
totals in the TOTAL row. k is a column's threshold (5 unless the table says otherwise); a count from 1 to k-1 is
small, and a small count of people could identify them. Zero is shown as zero.

What is withheld (`suppress`):

1. Primary: every cell of a non-exempt column whose count is small.
2. Complements: where a child column counts a subset of its parent's cases (`nested`), parent - child counts the
   parent's cases outside the child. It is never published but anyone can work it out, so it must not be small
   either. The same holds between a grandparent and a grandchild (the grandparent's cases outside the grandchild).
3. Secondary: cells withheld so that no withheld cell and no complement can be worked out as small:
   (a) no published non-exempt cell is small;
   (b) no line gives away a small sum: a column whose TOTAL is published, where the sum of the withheld group
       cells is TOTAL minus the published ones; a complement's column, where TOTAL's complement minus the
       complements that can be worked out row by row is the sum of the others; and a row whose child and parent
       are both published, where their difference is the complement. (A row whose child alone is withheld gives
       only child + complement = parent, the published parent itself, judged by the parent's own threshold.)
   (c) every small withheld cell and every small complement can be moved, in some table consistent with all that is
       published (counts >= 0, children within parents, groups adding up to TOTAL), to 0 or to k or more; so what
       can be worked out about it is never "between 1 and k-1".
4. The TOTAL row is decided first, on its own, exactly as for a table without groups: the same figures are also
   published without a breakdown, and a cell shown there cannot be hidden here. The group cells are then chosen
   to protect the groups and the TOTAL row's withheld cells alike; no extra TOTAL cell is ever withheld for them.
5. Secondary cells are chosen to lose as little as possible: the smallest non-zero counts first (a withheld zero
   rarely protects anything: with one other withheld cell in its column, that cell is TOTAL minus the published
   ones all the same), ties broken by row and column order. Exempt columns (published whole by law) are never
   withheld, neither as primary nor as secondary cells.

How (c) is ensured: for each small quantity the module looks for a certificate, a change to withheld cells that
keeps every published figure and every constraint and moves the quantity to 0 or to k. It changes the quantity's
own row (with whatever else in that row must follow) and makes up the difference in each column through the TOTAL
(where withheld) or through other groups. The primary cells give most quantities one already; for each of the rest
in turn, the cheapest cells that give it one are withheld, and the lines of rule (b) are mended after each, until
every quantity is protected (a fixpoint: cells are only ever added, and a certificate stays one as they are).

Impossible cases. When no choice of cells gives a small quantity a certificate (the cells it would need are
exempt, or in the TOTAL row, which is decided already), every non-exempt group cell of its column lines is
withheld: its column, and for a complement its ancestor's column too. Unless bounds then prove that nothing
withheld in the groups could hide it (it is pinned by published exempt or TOTAL cells), every non-exempt group
cell of its nesting tree is withheld as well: the certificates looked for are not every possible one, and
withholding the whole tree is the most the groups can do. A table without groups has no group cells to add.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

TOTAL = "__total__"
DEFAULT_K = 5

_ALL = 1 << 62  # "no limit": room to grow where a column has no parent to stay within

#: A small quantity in one row: (row, column, ancestor); ancestor -1 for the cell itself, else its complement.
Obligation = tuple[int, int, int]
#: A change to some cells that keeps everything published: (row, column) -> amount.
Change = dict[tuple[int, int], int]


@dataclass(frozen=True)
class CountTable:
    """Counts by group (rows) and measure (columns); values also hold the TOTAL row's counts."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: Mapping[tuple[str, str], int]
    nested: Mapping[str, str] = field(default_factory=dict)
    k: Mapping[str, int] = field(default_factory=dict)
    exempt: frozenset[str] = frozenset()


def suppress(table: CountTable) -> frozenset[tuple[str, str]]:
    """Return the cells (row, column) to withhold, TOTAL-row cells included."""
    grid = _validated(table)
    total_grid = grid.without_groups()
    total_hidden, impossible = _withhold(total_grid, fixed_total=None, skip=frozenset())
    total_columns = {c for c in range(len(grid.columns)) if total_hidden[0][c]}
    if not grid.groups:
        return frozenset((TOTAL, grid.columns[c]) for c in total_columns)
    # The TOTAL row's small quantities that nothing could protect on their own stay as they are with groups too.
    skip = frozenset((grid.total, c, a) for (_, c, a) in impossible)
    hidden, _ = _withhold(grid, fixed_total=total_columns, skip=skip)
    labels = (*table.rows, TOTAL)
    return frozenset((labels[r], grid.columns[c]) for r, row in enumerate(hidden) for c, h in enumerate(row) if h)


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


def _withhold(grid: _Grid, fixed_total: set[int] | None,
              skip: frozenset[Obligation]) -> tuple[list[list[bool]], list[Obligation]]:
    """The withheld grid and the small quantities nothing could protect; with fixed_total, only groups are chosen."""
    state = _Protection(grid, fixed_total)
    # Primary cells alone protect most quantities (the quick look finds those); the rest wait until they and the
    # mended lines are in place.
    waiting = [ob for ob in state.obligations() if ob not in skip and not _simple_certificate(state, ob)]
    state.mend_lines()
    impossible = []
    for ob in waiting:
        if not state.certified(ob) and not state.protect(ob):
            impossible.append(ob)
        state.mend_lines()
    return state.hidden, impossible


class _Protection:
    """The cells withheld so far in one grid, and the search for what else to withhold."""

    def __init__(self, grid: _Grid, fixed_total: set[int] | None):
        self.grid = grid
        self.fixed_total = fixed_total is not None
        self.hidden = [[False] * len(grid.columns) for _ in grid.x]
        self.hidden_groups: list[set[int]] = [set() for _ in grid.columns]  # per column, its withheld groups
        # Per column, how far its withheld groups could move together: [down, up] (see _room).
        self.group_room = [[0, 0] for _ in grid.columns]
        self.dirty = set(range(len(grid.columns)))  # columns whose lines may need mending
        self.found: dict[int, list[Change]] = {}  # per row, certificates found so far: often one serves several
        self.bounds: dict[int, tuple[dict, dict]] = {}  # per nesting tree (its root), once needed: see _bounds
        self.pinned: set[tuple[int, int]] = set()  # cells the bounds show no consistent table can change
        # The lines' withheld parts: per column, its withheld groups' sum; per pair, the complements of the groups
        # where the child or the ancestor is withheld (TOTAL's complement less those worked out row by row).
        self.withheld_sum = [0] * len(grid.columns)
        self.unknown_gap = dict.fromkeys(grid.pairs, 0)
        for c in fixed_total or ():
            self.hidden[grid.total][c] = True
        decided = range(grid.groups) if self.fixed_total else range(len(grid.x))
        for r in decided:
            for c, v in enumerate(grid.x[r]):
                if grid.small(v, c) and not grid.exempt[c]:
                    self.hide(r, c)

    def hide(self, r: int, c: int) -> None:
        """Withhold a cell."""
        if not self.hidden[r][c]:
            self.hidden[r][c] = True
            self.dirty.add(c)
            if r < self.grid.groups:
                line = self.grid.x[r]
                self.hidden_groups[c].add(r)
                self.group_room[c][0] += _room(self.grid, r, c, up=False)
                self.group_room[c][1] += _room(self.grid, r, c, up=True)
                self.withheld_sum[c] += line[c]
                for child, ancestor in self.grid.pairs_of[c]:
                    if not self.hidden[r][ancestor if c == child else child]:  # the row's gap was known till now
                        self.unknown_gap[child, ancestor] += line[ancestor] - line[child]

    def may_hide(self, r: int, c: int) -> bool:
        """True when the cell could still be withheld: not exempt, and not a TOTAL cell decided already."""
        return not self.grid.exempt[c] and not (r == self.grid.total and self.fixed_total)

    def obligations(self) -> list[Obligation]:
        """The small cells and small complements, each of which needs a certificate."""
        grid, found = self.grid, []
        for r, line in enumerate(grid.x):
            for c, v in enumerate(line):
                if self.hidden[r][c] and grid.small(v, c):
                    found.append((r, c, -1))
            for c, a in grid.pairs:
                if not (grid.exempt[c] and grid.exempt[a]) and grid.small(line[a] - line[c], c):
                    found.append((r, c, a))
        return found

    def protect(self, ob: Obligation) -> bool:
        """Withhold the cheapest cells that give the quantity a certificate; False if no choice of cells can."""
        r, c, a = ob
        root = self.grid.tree[c][0]
        if root not in self.bounds and any(self.grid.exempt[s] for s in self.grid.tree[c]):
            _bounds(self, root)  # exempt cells pin others down: knowing which saves searching in vain
        known_pinned = root in self.bounds and _stays_small(self, ob)
        change = None if known_pinned else self.cheapest(ob)
        if change is not None:
            for cell in change:
                self.hide(*cell)
            return True
        # The rule for impossible cases: every non-exempt group cell of the quantity's column lines. Unless bounds
        # prove nothing more could help, the certificates looked for may just have missed a way: the rest of its
        # nesting tree too, the most the groups can do.
        self._hide_groups((c,) if a < 0 else (c, a))
        if not (known_pinned or _stays_small(self, ob)):
            self._hide_groups(self.grid.tree[c])
        return False

    def _hide_groups(self, columns: tuple[int, ...]) -> None:
        """Withhold every non-exempt group cell of the columns."""
        for c in columns:
            if not self.grid.exempt[c]:
                for r in range(self.grid.groups):
                    self.hide(r, c)

    def certified(self, ob: Obligation) -> bool:
        """True when a quick look finds the cells withheld already give the quantity a certificate."""
        return _simple_certificate(self, ob) or any(_moves_out(self.grid, ob, c) for c in self.found.get(ob[0], ()))

    def cheapest(self, ob: Obligation) -> Change | None:
        """The certificate that withholds least (often nothing more), remembered for its row; None if there is none."""
        # A certificate stays one as cells are added, and often serves the row's other quantities too.
        change = self._search(ob, free_only=True) or self._search(ob, free_only=False)
        if change is not None:
            self.found.setdefault(ob[0], []).append(change)
        return change

    def _search(self, ob: Obligation, free_only: bool) -> Change | None:
        """The cheapest certificate found; free_only: among withheld cells alone (a quicker look)."""
        r0, c0, a0 = ob

        def usable(r: int, c: int) -> bool:
            return (self.hidden[r][c] or (not free_only and self.may_hide(r, c))) and (r, c) not in self.pinned

        if a0 >= 0 and not (usable(r0, c0) or usable(r0, a0)):
            return None  # every way to move a complement moves its child or its ancestor
        shifts: Iterable[dict[int, int]] = (shift for shift in _shifts(self.grid, ob)
                                            if all(usable(r0, c) for c in shift))
        if not free_only:  # cheapest own row first: the others need not be tried once they cost more than the best
            shifts = sorted(shifts, key=lambda shift: self._cost((r0, c) for c in shift))
        best, best_cost = None, None
        for shift in shifts:
            if best_cost is not None and self._cost((r0, c) for c in shift) >= best_cost:
                break  # its own row already withholds as much as the best so far
            for change in _balanced(self, r0, shift, usable, free_only):
                cost = self._cost(change)
                if cost == (0, 0, 0):
                    return change
                if best_cost is None or cost < best_cost:
                    best, best_cost = change, cost
        return best

    def partners(self, r0: int, shift: dict[int, int], free_only: bool) -> list[int]:
        """The other groups that could take part in a shift, those that would withhold least first."""
        # Withheld in all the shift's columns, then in its main column; then by the main column's count, smallest
        # non-zero first (a zero last: withholding it rarely protects anything).
        if free_only:
            return sorted(set().union(*(self.hidden_groups[c] for c in shift)) - {r0})
        c = max(shift, key=lambda col: (abs(shift[col]), -col))
        ready = set.intersection(*(self.hidden_groups[col] for col in shift)) - {r0}
        half = self.hidden_groups[c] - ready - {r0}
        rest = [j for j in self.grid.cheapest_first[c] if j != r0 and not self.hidden[j][c]]
        return sorted(ready) + sorted(half) + rest

    def _cost(self, cells: Iterable[tuple[int, int]]) -> tuple[int, int, int]:
        """What withholding the cells would add: zero cells (a poor choice), then the counts, then the cells."""
        added = [self.grid.x[r][c] for r, c in cells if not self.hidden[r][c]]
        return sum(1 for v in added if v == 0), sum(added), len(added)

    def mend_lines(self) -> None:
        """Withhold cells until no line gives away a small sum (rule 3b), looking again where something changed."""
        grid = self.grid
        if not grid.groups:
            self.dirty.clear()
            return
        while self.dirty:
            columns, self.dirty = sorted(self.dirty), set()
            for c in columns:
                if not grid.exempt[c] and not self.hidden[grid.total][c]:
                    self._mend_column(c)
            for c, a in sorted({pair for col in columns for pair in grid.pairs_of[col]}):
                if not (grid.exempt[c] and grid.exempt[a]) and not (self.hidden[grid.total][c]
                                                                     or self.hidden[grid.total][a]):
                    self._mend_complement(c, a)

    def _mend_column(self, c: int) -> None:
        """A column's withheld groups add up to TOTAL minus the published ones: a small sum needs one more cell."""
        # Published non-exempt counts are 0 or at least k, so the smallest non-zero one is always enough.
        if self.grid.small(self.withheld_sum[c], c):
            x = self.grid.x
            shown = [(x[r][c], r) for r in self.grid.cheapest_first[c] if not self.hidden[r][c] and x[r][c]]
            if shown:
                self.hide(shown[0][1], c)

    def _mend_complement(self, c: int, a: int) -> None:
        """TOTAL's complement minus those worked out row by row is the sum of the rest: a small sum needs a row more."""
        # The row to add: one whose cheapest cell (smallest non-zero count) brings the sum to k, if any does.
        rest = self.unknown_gap[c, a]
        if not self.grid.small(rest, c):
            return
        grid, hidden, need = self.grid, self.hidden, self.grid.k[c] - rest
        options = []
        for r in range(grid.groups):
            gap = grid.x[r][a] - grid.x[r][c]
            if gap and not (hidden[r][c] or hidden[r][a]):
                options += [(gap < need, grid.x[r][col] == 0, grid.x[r][col], r, col)
                            for col in (c, a) if self.may_hide(r, col)]
        if options:
            *_, r, col = min(options)
            self.hide(r, col)


def _stays_small(state: _Protection, ob: Obligation) -> bool:
    """True when bounds prove the quantity small, however many more cells were withheld."""
    grid = state.grid
    r0, c0, a0 = ob
    lo, hi = _bounds(state, grid.tree[c0][0])
    if a0 < 0:
        low, high = lo[r0, c0], hi[r0, c0]
    else:  # the complement is the sum of the gaps along the path from the child up to the ancestor
        path = (c0, *grid.ancestors[c0][:grid.ancestors[c0].index(a0)])
        low, high = sum(lo[r0, "gap", s] for s in path), sum(hi[r0, "gap", s] for s in path)
    return low >= 1 and high < grid.k[c0]


def _bounds(state: _Protection, root: int) -> tuple[dict, dict]:
    """Lower and upper bounds of every count and gap of a nesting tree, with every cell withheld that may be."""
    # The bounds narrow through each column's sum, each row's nesting (parent = child + gap) and each gap column's
    # sum until nothing changes. They hold in every table consistent with what must be published (exempt cells,
    # the TOTAL row as decided), so a quantity they keep within 1..k-1 cannot be protected. They depend on nothing
    # else withheld, so one reckoning serves the whole tree.
    if root in state.bounds:
        return state.bounds[root]
    grid = state.grid
    tree, rows, groups = grid.tree[root], range(len(grid.x)), range(grid.groups)
    lo: dict[tuple, float] = {}
    hi: dict[tuple, float] = {}
    sums: list[tuple[tuple, list[tuple]]] = []  # (whole, parts): whole = sum of parts
    for s in tree:
        for r in rows:
            free = state.hidden[r][s] or state.may_hide(r, s)
            lo[r, s], hi[r, s] = (0, math.inf) if free else (grid.x[r][s], grid.x[r][s])
        if grid.groups:
            sums.append(((grid.total, s), [(r, s) for r in groups]))
        if grid.parent[s] >= 0:
            for r in rows:
                lo[r, "gap", s], hi[r, "gap", s] = 0, math.inf
                sums.append(((r, grid.parent[s]), [(r, s), (r, "gap", s)]))
            if grid.groups:
                sums.append(((grid.total, "gap", s), [(r, "gap", s) for r in groups]))
    holding: dict[tuple, list[int]] = {}
    for i, (whole, parts) in enumerate(sums):
        for key in (whole, *parts):
            holding.setdefault(key, []).append(i)
    queue, queued = deque(range(len(sums))), set(range(len(sums)))
    budget = 40 * len(sums)  # bounds can creep by ones; stopping early leaves them wider, still true
    while queue and budget:
        budget -= 1
        i = queue.popleft()
        queued.discard(i)
        for key in _narrow(lo, hi, *sums[i]):
            for j in holding[key]:
                if j not in queued:
                    queued.add(j)
                    queue.append(j)
    state.bounds[root] = lo, hi
    state.pinned.update((r, s) for r in rows for s in tree if lo[r, s] == hi[r, s])
    return lo, hi


def _narrow(lo: dict, hi: dict, whole: tuple, parts: list[tuple]) -> list[tuple]:
    """Narrow the bounds of whole = sum(parts) and of its parts; the keys whose bounds changed."""
    lows, highs = [lo[p] for p in parts], [hi[p] for p in parts]
    low_sum, unbounded = sum(lows), highs.count(math.inf)
    finite_sum = sum(h for h in highs if h != math.inf)
    changed = []
    if low_sum > lo[whole]:
        lo[whole] = low_sum
        changed.append(whole)
    if not unbounded and finite_sum < hi[whole]:
        hi[whole] = finite_sum
        changed.append(whole)
    for p, low, high in zip(parts, lows, highs, strict=True):
        if hi[whole] - (low_sum - low) < hi[p]:
            hi[p] = hi[whole] - (low_sum - low)
            changed.append(p)
        if unbounded == (high == math.inf):  # every other part is bounded
            floor = lo[whole] - (finite_sum - (0 if high == math.inf else high))
            if floor > lo[p]:
                lo[p] = floor
                changed.append(p)
    return changed


def _simple_certificate(state: _Protection, ob: Obligation) -> bool:
    """The commonest certificates, found quickly: one cell of the row moves, withheld cells elsewhere make up for it."""
    grid = state.grid
    r0, c, a = ob
    line, hidden = grid.x[r0], state.hidden[r0]
    if a < 0:  # a withheld small cell: to 0 (nothing below it to take along), or to k (nothing above it below k)
        if all(line[g] == 0 for g in grid.subtree[c][1:]) and _made_up(state, r0, c, -line[c]):
            return True
        return all(line[u] >= grid.k[c] for u in grid.ancestors[c]) and _made_up(state, r0, c, grid.k[c] - line[c])
    if grid.parent[c] != a:
        return False
    gap = line[a] - line[c]  # closed by raising the child, or by lowering the parent when no other child is in the way
    if hidden[c] and _made_up(state, r0, c, gap):
        return True
    return hidden[a] and all(line[s] <= line[c] for s in grid.children[a]) and _made_up(state, r0, a, -gap)


def _moves_out(grid: _Grid, ob: Obligation, change: Change) -> bool:
    """True when a change takes the obligation's quantity to 0 or to k or more."""
    r0, c, a = ob

    def new(col: int) -> int:
        return grid.x[r0][col] + change.get((r0, col), 0)

    return not grid.small(new(c) if a < 0 else new(a) - new(c), c)


def _made_up(state: _Protection, r0: int, c: int, amount: int) -> bool:
    """True when withheld cells of column c elsewhere can make up for row r0 moving it alone by amount."""
    grid = state.grid
    if not grid.groups:
        return True
    rises = amount > 0
    if r0 == grid.total:  # the groups move the same way as the TOTAL
        return state.group_room[c][rises] >= abs(amount)
    # The TOTAL moves the same way, the other groups the other way.
    room = state.group_room[c][not rises]
    if r0 in state.hidden_groups[c]:
        room -= _room(grid, r0, c, not rises)
    if state.hidden[grid.total][c]:
        room += _room(grid, grid.total, c, rises)
    return room >= abs(amount)


def _room(grid: _Grid, r: int, c: int, up: bool) -> int:
    """How far one cell can move alone: up to its parent, or down to its largest child."""
    line = grid.x[r]
    if up:
        p = grid.parent[c]
        return line[p] - line[c] if p >= 0 else _ALL
    return line[c] - max((line[g] for g in grid.children[c]), default=0)


def _shifts(grid: _Grid, ob: Obligation) -> Iterator[dict[int, int]]:
    """Changes to the obligation's own row (column -> amount) that move its quantity to 0 or to k, simplest first."""
    r, c, a = ob
    line = grid.x[r]
    pinned = _cell_pins(grid, line, c) if a < 0 else _complement_pins(grid, line, c, a)
    carried = [g for g in grid.subtree[c][1:] if not grid.exempt[g]]
    seen = set()
    for pins in pinned:
        variants = [pins]
        if carried and pins.get(c, line[c]) > line[c]:
            # Cases arriving in the column may be in its children too (where another group has them there).
            variants.append(pins | {g: line[g] + pins[c] - line[c] for g in carried})
        for variant in variants:
            shift = _settle(grid, line, variant)
            key = tuple(sorted(shift.items())) if shift else None
            if key and key not in seen:
                seen.add(key)
                yield shift


def _cell_pins(grid: _Grid, line: list[int], c: int) -> Iterator[dict[int, int]]:
    """New values that take a cell to 0 or to k: its cases leave it (lifted: its nearest ancestors too) or arrive."""
    v, k, above = line[c], grid.k[c], grid.ancestors[c]
    for lift in range(len(above) + 1):
        yield {c: 0} | {u: line[u] - v for u in above[:lift]}
        yield {c: k} | {u: line[u] + k - v for u in above[:lift]}
    for top in above:
        yield {top: 0}  # a whole block of cases leaves the row


def _complement_pins(grid: _Grid, line: list[int], c: int, a: int) -> Iterator[dict[int, int]]:
    """New values that close the gap between a child and its ancestor (they meet), or widen it to k."""
    path = (c, *grid.ancestors[c][:grid.ancestors[c].index(a) + 1])
    above = grid.ancestors[a]
    low, high = line[c], line[a]
    meets = [high, low, *sorted({line[u] for u in grid.subtree[a]} - {low, high} & set(range(low, high)))]
    need = grid.k[c] - (high - low)
    most = min(low, need)
    cuts = {low - line[g] for g in grid.subtree[c][1:]} | {need - (line[u] - high) for u in above}
    cuts = [0, most, *sorted(cut for cut in cuts if 0 < cut < most)]
    for lift in range(len(above) + 1):
        for m in meets:
            if not lift or m < high:  # lifting: the cases leaving the ancestor leave its ancestors too
                yield {u: m for u in path} | {u: line[u] - (high - m) for u in above[:lift]}
        for cut in cuts:
            rise = need - cut
            if not lift or rise:
                yield {c: low - cut, a: high + rise} | {u: line[u] + rise for u in above[:lift]}
    for top in (a, *above):
        yield {top: 0}


def _settle(grid: _Grid, line: list[int], pins: dict[int, int]) -> dict[int, int] | None:
    """The smallest change to a row that gives the pinned columns their values (None if they contradict)."""
    # A pinned value raises the ancestors below it and cuts the descendants above it; nothing else needs to move.
    new: dict[int, int] = {}
    for c, value in pins.items():
        if value < 0:
            return None
        before = new.get(c, line[c])
        new[c] = value
        if value > before:
            for u in grid.ancestors[c]:
                if new.get(u, line[u]) >= value:
                    break
                new[u] = value
        elif value < before:
            for g in grid.subtree[c][1:]:
                ceiling = new.get(grid.parent[g], line[grid.parent[g]])
                if new.get(g, line[g]) > ceiling:
                    new[g] = ceiling
    if any(new[c] != value for c, value in pins.items()):
        return None  # one pin moved another: they contradict
    return {c: v - line[c] for c, v in new.items() if v != line[c]}


def _balanced(state: _Protection, r0: int, shift: dict[int, int], usable, free_only: bool) -> Iterator[Change]:
    """Ways to make up a row's shift in each column so that every column still adds up to its TOTAL."""
    # A group's shift is made up by the TOTAL (where withheld: it moves the same way) or by other groups (the other
    # way); a shift of the TOTAL row, by groups moving the same way.
    grid = state.grid
    if not grid.groups:
        yield {(r0, c): d for c, d in shift.items()}
        return
    sign = 1 if r0 == grid.total else -1
    head = [(grid.total, 1)] if r0 != grid.total else []
    groups = state.partners(r0, shift, free_only)
    change = _spread(grid, r0, shift, head + [(j, sign) for j in groups], usable)
    if change is not None:
        yield change
    if free_only or (change is not None and len({r for r, c in change if not state.hidden[r][c]} - {r0}) < 2):
        return
    # Spreading drew in several groups (or none could: what some took in part blocked the rest): one alone, a
    # little dearer per cell, may do. It must at least take the widest layer whole.
    unit, count = _layers(shift)[0]
    for j in groups:
        if all(usable(j, c) for c in unit) and _most_copies(grid, grid.x[j], {}, unit, sign, count) == count:
            change = _spread(grid, r0, shift, [*head, (j, sign)], usable)
            if change is not None:
                yield change
                return


def _spread(grid: _Grid, r0: int, shift: dict[int, int], partners: list[tuple[int, int]], usable) -> Change | None:
    """Share the shift out among partners (row, direction) in order; None if they cannot take it all."""
    # Whole layers first (cases moving with their ancestors and descendants); what is left, column by column.
    taken: dict[int, dict[int, int]] = {}
    pieces = _layers(shift)
    for by_column in (False, True):
        if by_column:
            if len(shift) == 1:
                return None
            pieces = _columns_of(grid, pieces)
        for row, sign in partners:
            open_ = {c for c in shift if usable(row, c)}
            if not open_:
                continue
            moves = taken.setdefault(row, {})
            for _ in range(2 if len(pieces) > 1 else 1):  # a second round: one move can make room for another
                took = False
                for i, (unit, count) in enumerate(pieces):
                    if count and unit.keys() <= open_:
                        copies = _most_copies(grid, grid.x[row], moves, unit, sign, count)
                        if copies:
                            for c, step in unit.items():
                                moves[c] = moves.get(c, 0) + sign * step * copies
                            pieces[i] = (unit, count - copies)
                            took = True
                if not took:
                    break
            if not any(count for _, count in pieces):
                change = {(r0, c): d for c, d in shift.items()}
                change.update(((r, c), d) for r, moves in taken.items() for c, d in moves.items())
                return change
    return None


def _columns_of(grid: _Grid, pieces: list[tuple[dict[int, int], int]]) -> list[tuple[dict[int, int], int]]:
    """What is left of the layers as single-column unit moves, parents first."""
    left: dict[int, int] = {}
    for unit, count in pieces:
        for c, step in unit.items():
            left[c] = left.get(c, 0) + step * count
    order = sorted((c for c in left if left[c]), key=lambda c: len(grid.ancestors[c]))
    return [({c: 1 if left[c] > 0 else -1}, abs(left[c])) for c in order]


def _layers(shift: dict[int, int]) -> list[tuple[dict[int, int], int]]:
    """The shift as layers of unit moves (column -> +1 or -1) with their counts, widest layer first."""
    layers, done = [], 0
    for step in sorted({abs(d) for d in shift.values()}):
        unit = {c: (1 if d > 0 else -1) for c, d in shift.items() if abs(d) > done}
        layers.append((unit, step - done))
        done = step
    return layers


def _most_copies(grid: _Grid, line: list[int], taken: dict[int, int], unit: dict[int, int], sign: int,
                 limit: int) -> int:
    """How many copies of a unit move (times sign) a row can take on top of what it has taken, up to limit."""
    def value(col: int) -> int:
        return line[col] + taken.get(col, 0)

    most = limit
    for c, step in unit.items():
        move = sign * step
        if move < 0:
            most = min(most, value(c), *(value(c) - value(g) for g in grid.children[c] if g not in unit))
        p = grid.parent[c]
        if p >= 0:
            closing = move - sign * unit.get(p, 0)  # how fast the gap to the parent closes per copy
            if closing > 0:
                most = min(most, (value(p) - value(c)) // closing)
        if most <= 0:
            return 0
    return most

"""The cells withheld so far in one grid, and the fixpoint that withholds more until every small quantity is safe."""
from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.measures.disclosure.certificates import (
    Change,
    Obligation,
    _balanced,
    _bounds,
    _moves_out,
    _room,
    _shifts,
    _simple_certificate,
    _stays_small,
)

if TYPE_CHECKING:
    from app.measures.disclosure.table import _Grid


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

"""The search for certificates (rule 3c): changes to withheld cells that move a small quantity to 0 or to k."""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.measures.disclosure.protection import _Protection
    from app.measures.disclosure.table import _Grid

_ALL = 1 << 62  # "no limit": room to grow where a column has no parent to stay within

#: A small quantity in one row: (row, column, ancestor); ancestor -1 for the cell itself, else its complement.
Obligation = tuple[int, int, int]
#: A change to some cells that keeps everything published: (row, column) -> amount.
Change = dict[tuple[int, int], int]


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

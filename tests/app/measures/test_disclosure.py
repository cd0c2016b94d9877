"""Statistical disclosure control (app.measures.disclosure): plain examples, then an attacker with linear programming.

The attacker knows the table's structure (groups add up to TOTAL, children within parents, k) and every published
cell. The unknowns are the withheld cells and every complement (parent - child, per row); the constraints are each
column's sum over the groups (complement columns too), parent = child + complement in each row, and all >= 0. For
each small quantity it minimises and maximises the quantity (HiGHS) and the test asserts the interval it finds is not
inside 1..k-1. A quantity whose true value is 0 or k or more needs no check: the true table is one the attacker must
allow, so its interval holds that value. Complements between two exempt columns are published by law, as are exempt
cells, and are not checked.

Some quantities cannot be protected at all: the TOTAL row is decided on its own (rule 4) and exempt columns are
published whole, and what they pin down no group cell can hide. A quantity is excused only when the attacker still
pins it down with every non-exempt group cell withheld (no rows: every non-exempt TOTAL cell), the most any
suppression could do.
"""
from __future__ import annotations

import math
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from app.measures.disclosure import TOTAL, CountTable, suppress


def table(groups: dict[str, list[int]], columns: str, total: list[int] | None = None, **options) -> CountTable:
    """A table from group rows (TOTAL their sum unless given) and space-separated column names."""
    names = tuple(columns.split())
    values = {(row, c): v for row, counts in groups.items() for c, v in zip(names, counts, strict=True)}
    totals = total if total is not None else [sum(counts[i] for counts in groups.values()) for i in range(len(names))]
    values.update({(TOTAL, c): v for c, v in zip(names, totals, strict=True)})
    return CountTable(rows=tuple(groups), columns=names, values=values, **options)


def without_breakdown(t: CountTable) -> CountTable:
    """The same figures published without groups: the TOTAL row alone."""
    return CountTable(rows=(), columns=t.columns, values={(TOTAL, c): t.values[TOTAL, c] for c in t.columns},
                      nested=t.nested, k=t.k, exempt=t.exempt)


def k_of(t: CountTable, column: str) -> int:
    return t.k.get(column, 5)


def small(t: CountTable, value: float, column: str) -> bool:
    return 1 <= value <= k_of(t, column) - 1


def ancestors(t: CountTable, column: str) -> list[str]:
    chain = []
    while column in t.nested:
        column = t.nested[column]
        chain.append(column)
    return chain


def pairs(t: CountTable) -> list[tuple[str, str]]:
    """(child, ancestor) for every nested pair, grandparents too; not between two exempt columns."""
    return [(c, a) for c in t.columns for a in ancestors(t, c) if not (c in t.exempt and a in t.exempt)]


# ---------------------------------------------------------------------------------------------------------------
# Plain examples

EXAMPLES = {
    "a single small cell takes the smallest non-zero other with it, not the zero": (
        table({"a": [3], "b": [0], "c": [8], "d": [20]}, "referrals"),
        {("a", "referrals"), ("c", "referrals")},
    ),
    "zero is shown as zero": (
        table({"a": [0], "b": [9], "c": [12]}, "referrals"),
        set(),
    ),
    "small counts in an exempt column are published; the others are not": (
        table({"a": [2, 2], "b": [9, 9], "c": [12, 12]}, "deaths referrals", exempt=frozenset({"deaths"})),
        {("a", "referrals"), ("b", "referrals")},
    ),
    "a nested complement of 3 with k=5: the child goes (the smaller count)": (
        table({}, "referrals repeat", total=[10, 7], nested={"repeat": "referrals"}),
        {(TOTAL, "repeat")},
    ),
    "a small complement under an exempt child: the parent goes": (
        table({}, "referrals deaths", total=[5, 1], nested={"deaths": "referrals"}, exempt=frozenset({"deaths"})),
        {(TOTAL, "referrals")},
    ),
    "each group's small complement hides its child; TOTAL, decided alone, stays published": (
        table({"a": [10, 7], "b": [10, 8]}, "referrals repeat", nested={"repeat": "referrals"}),
        {("a", "repeat"), ("b", "repeat")},
    ),
    "a TOTAL cell withheld alone is protected through the groups, never by another TOTAL cell": (
        table({"a": [5, 5], "b": [5, 2]}, "referrals repeat", nested={"repeat": "referrals"}),
        {(TOTAL, "repeat"), ("b", "repeat")},
    ),
    "small everywhere: the TOTAL is small too": (
        table({"a": [1], "b": [2], "c": [0]}, "referrals"),
        {("a", "referrals"), ("b", "referrals"), (TOTAL, "referrals")},
    ),
    "a threshold of its own": (
        table({"a": [7], "b": [12], "c": [30]}, "referrals", k={"referrals": 10}),
        {("a", "referrals"), ("b", "referrals")},
    ),
}


@pytest.mark.parametrize(("t", "expected"), EXAMPLES.values(), ids=EXAMPLES.keys())
def test_examples(t, expected):
    withheld = suppress(t)
    assert withheld == expected
    audit(t, withheld)


def test_the_total_row_is_decided_as_without_a_breakdown():
    t = EXAMPLES["a TOTAL cell withheld alone is protected through the groups, never by another TOTAL cell"][0]
    assert suppress(without_breakdown(t)) == {(TOTAL, "repeat")}
    assert {(r, c) for r, c in suppress(t) if r == TOTAL} == {(TOTAL, "repeat")}


def test_an_empty_table():
    assert suppress(CountTable(rows=(), columns=(), values={})) == frozenset()


def test_impossible_case_withholds_the_whole_line():
    # "serious" is exempt and equals "referrals" in every group: referrals are published whole in effect, so the
    # small referral count of group a cannot be hidden; the rule withholds every referral cell of the groups.
    t = table({"a": [3, 3], "b": [9, 9], "c": [12, 12]}, "referrals serious", nested={"serious": "referrals"},
              exempt=frozenset({"serious"}))
    assert suppress(t) == {("a", "referrals"), ("b", "referrals"), ("c", "referrals")}


# Tables an earlier version got wrong or protected only by withholding whole nesting trees, kept as cases.
HARD_CASES = {
    "a whole block of cases moves between groups, ancestors and siblings included": table(
        {"g0": [0, 2, 0, 2, 2, 2], "g1": [2, 7, 2, 7, 7, 0], "g2": [4, 0, 4, 0, 0, 0]}, "m0 m1 m2 m3 m4 m5",
        nested={"m2": "m0", "m3": "m1", "m4": "m3", "m5": "m1"}, k={"m0": 9, "m1": 3, "m2": 10, "m3": 9, "m4": 9,
                                                                    "m5": 9}),
    "cases arriving in a column arrive in its children too": table(
        {"g0": [14, 14, 0, 2, 3, 1], "g1": [4, 4, 0, 11, 3, 1], "g2": [3, 3, 7, 0, 0, 3], "g3": [0, 0, 6, 3, 0, 0],
         "g4": [4, 3, 4, 0, 4, 0], "g5": [1, 1, 0, 0, 1, 1]}, "m0 m1 m2 m3 m4 m5",
        nested={"m1": "m0", "m4": "m0", "m5": "m1"}, k={"m0": 5, "m1": 2, "m2": 7, "m3": 9, "m4": 9, "m5": 5},
        exempt=frozenset({"m2", "m4"})),
    "a layer split by column: the child through TOTAL, the parent through a group": table(
        {"g0": [14, 2, 7, 2], "g1": [2, 2, 0, 2], "g2": [1, 1, 1, 1], "g3": [14, 4, 5, 3], "g4": [13, 1, 1, 0],
         "g5": [12, 0, 12, 0], "g6": [2, 2, 2, 0]}, "m0 m1 m2 m3",
        nested={"m1": "m0", "m2": "m0", "m3": "m1"}, k={"m0": 2, "m1": 7, "m2": 5, "m3": 5},
        exempt=frozenset({"m2", "m3"})),
    "a grandchild pinned below two exempt ancestors": table(
        {"g0": [4, 2, 0, 0, 0, 0]}, "m0 m1 m2 m3 m4 m5",
        nested={"m1": "m0", "m2": "m0", "m3": "m2", "m4": "m2", "m5": "m2"},
        k={"m0": 4, "m2": 8, "m3": 3, "m4": 5, "m5": 4}, exempt=frozenset({"m0", "m2"})),
    # No certificate the module looks for exists in these two, though withholding more does protect them: the
    # rest of the nesting tree is withheld (without that, the first pins g3's m0 to 3..4, the second g5's m0 - m2).
    "no certificate found, yet protectable: the nesting tree is withheld": table(
        {"g0": [0, 0, 0, 0, 0], "g1": [4, 4, 4, 3, 1], "g2": [10, 10, 10, 0, 0], "g3": [3, 0, 0, 0, 3],
         "g4": [1, 0, 0, 1, 1], "g5": [0, 0, 0, 0, 0]}, "m0 m1 m2 m3 m4",
        nested={"m1": "m0", "m2": "m1", "m3": "m0", "m4": "m0"}, k={"m0": 9, "m1": 6, "m2": 3, "m3": 7},
        exempt=frozenset({"m4"})),
    "no certificate found for a complement under an exempt root: the nesting tree is withheld": table(
        {"g0": [0, 0, 0, 0, 4, 0], "g1": [9, 6, 5, 12, 0, 4], "g2": [1, 0, 0, 3, 0, 0], "g3": [0, 0, 0, 3, 2, 0],
         "g4": [0, 0, 0, 0, 0, 0], "g5": [4, 0, 0, 2, 0, 0], "g6": [0, 0, 0, 4, 1, 0]}, "m0 m1 m2 m3 m4 m5",
        nested={"m1": "m0", "m2": "m1", "m5": "m1"}, k={"m0": 2, "m1": 4, "m2": 5, "m3": 4, "m5": 6},
        exempt=frozenset({"m0"})),
}


@pytest.mark.parametrize("t", HARD_CASES.values(), ids=HARD_CASES.keys())
def test_hard_cases(t):
    audit(t, suppress(t))


# ---------------------------------------------------------------------------------------------------------------
# Invalid tables

def valid(**changes) -> dict:
    base = {"rows": ("a", "b"), "columns": ("p", "c"), "nested": {"c": "p"},
            "values": {("a", "p"): 5, ("a", "c"): 2, ("b", "p"): 6, ("b", "c"): 6, (TOTAL, "p"): 11, (TOTAL, "c"): 8}}
    base.update(changes)
    return base


def values_with(**cells) -> dict:
    values = dict(valid()["values"])
    for name, v in cells.items():
        row, column = name.split("_")
        values[TOTAL if row == "T" else row, column] = v
    return values


INVALID = {
    "TOTAL is not the sum of the groups": valid(values=values_with(T_p=12)),
    "a child above its parent": valid(values=values_with(a_c=6, T_c=12)),
    "a child above its parent in TOTAL alone": valid(rows=(), values={(TOTAL, "p"): 3, (TOTAL, "c"): 4}),
    "a negative count": valid(values=values_with(a_c=-1, T_c=5)),
    "a count that is not an int": valid(values=values_with(a_c=2.0)),
    "a bool is not a count": valid(values=values_with(a_c=True, T_c=7)),
    "a missing cell": valid(values={k: v for k, v in valid()["values"].items() if k != ("a", "c")}),
    "a cell of no row": valid(values=values_with() | {("z", "p"): 0}),
    "TOTAL as a group's label": valid(rows=("a", TOTAL)),
    "the same label twice": valid(rows=("a", "a")),
    "nesting under an unknown column": valid(nested={"c": "q"}),
    "nesting in a cycle": valid(nested={"c": "p", "p": "c"}),
    "a column nested in itself": valid(nested={"c": "c"}),
    "a threshold for an unknown column": valid(k={"q": 5}),
    "a threshold below 1": valid(k={"p": 0}),
    "an unknown exempt column": valid(exempt=frozenset({"q"})),
}


@pytest.mark.parametrize("fields", INVALID.values(), ids=INVALID.keys())
def test_invalid_tables_are_refused(fields):
    with pytest.raises(ValueError):
        suppress(CountTable(**fields))


# ---------------------------------------------------------------------------------------------------------------
# The attacker

class Attacker:
    """What someone holding the published cells can work out, by linear programming over the unpublished ones."""

    def __init__(self, t: CountTable, withheld: set[tuple[str, str]]):
        self.t = t
        rows = (*t.rows, TOTAL)
        unknowns = sorted(withheld) + [("complement", r, child) for r in rows for child in t.nested]
        self.index = {name: i for i, name in enumerate(unknowns)}
        equations = []
        if t.rows:
            for c in t.columns:  # each column adds up to TOTAL
                equations.append({**{(r, c): 1 for r in t.rows}, (TOTAL, c): -1})
            for child in t.nested:  # and so does each complement column
                equations.append({**{("complement", r, child): 1 for r in t.rows}, ("complement", TOTAL, child): -1})
        for r in rows:
            for child, parent in t.nested.items():  # parent = child + complement
                equations.append({(r, parent): 1, (r, child): -1, ("complement", r, child): -1})
        self.a_eq = [[0] * len(unknowns) for _ in equations]
        self.b_eq = [0] * len(equations)
        for i, equation in enumerate(equations):
            for name, coefficient in equation.items():
                if name in self.index:
                    self.a_eq[i][self.index[name]] += coefficient
                else:
                    self.b_eq[i] -= coefficient * t.values[name]

    def interval(self, expression: dict[tuple[str, str], int]) -> tuple[int, float]:
        """The smallest and largest whole values of sum(coefficient * cell) consistent with what is published."""
        objective = [0] * len(self.index)
        constant = 0
        for cell, coefficient in expression.items():
            if cell in self.index:
                objective[self.index[cell]] += coefficient
            else:
                constant += coefficient * self.t.values[cell]
        if not any(objective):
            return constant, constant
        low = self._optimum(objective)
        if low is None:
            return 0, math.inf
        high = self._optimum([-x for x in objective])
        return math.ceil(low + constant - 1e-6), math.inf if high is None else math.floor(-high + constant + 1e-6)

    def _optimum(self, objective: list[int]) -> float | None:
        """The minimum of the objective, None if unbounded."""
        equations = {"A_eq": self.a_eq, "b_eq": self.b_eq} if self.b_eq else {}
        found = linprog(objective, bounds=(0, None), method="highs", **equations)
        assert found.status in (0, 3), found.message  # 3: unbounded
        return found.fun if found.status == 0 else None


def most_withheld(t: CountTable, withheld) -> set[tuple[str, str]]:
    """The most any suppression could withhold: every non-exempt group cell and the TOTAL cells decided alone."""
    if not t.rows:
        return {(TOTAL, c) for c in t.columns if c not in t.exempt}
    return {(r, c) for r in t.rows for c in t.columns if c not in t.exempt} | {x for x in withheld if x[0] == TOTAL}


def small_quantities(t: CountTable, withheld) -> list[tuple[str, dict, str]]:
    """(name, expression, column whose k applies) for each withheld small cell and each small complement."""
    found = [(f"cell {cell}", {cell: 1}, cell[1]) for cell in sorted(withheld) if small(t, t.values[cell], cell[1])]
    for r in (*t.rows, TOTAL):
        for c, a in pairs(t):
            if small(t, t.values[r, a] - t.values[r, c], c):
                found.append((f"complement {r}: {a} - {c}", {(r, a): 1, (r, c): -1}, c))
    return found


def audit(t: CountTable, withheld: frozenset[tuple[str, str]]) -> None:
    """Assert rules 1, 3 (a), (b), (c) and 4 for a suppression, as the attacker sees it."""
    rows = (*t.rows, TOTAL)
    assert all(c not in t.exempt for _, c in withheld), "an exempt cell is withheld"
    for r in rows:  # rules 1 and 3(a): no published non-exempt cell is small
        for c in t.columns:
            if c not in t.exempt and small(t, t.values[r, c], c):
                assert (r, c) in withheld, f"small cell ({r}, {c}) = {t.values[r, c]} is published"
    if t.rows:  # rule 4
        assert {c for r, c in withheld if r == TOTAL} == {c for _, c in suppress(without_breakdown(t))}
    attacker, best = Attacker(t, set(withheld)), None
    for name, expression, column in small_quantities(t, withheld):  # rule 3(c)
        low, high = attacker.interval(expression)
        if low >= 1 and high <= k_of(t, column) - 1:
            best = best or Attacker(t, most_withheld(t, withheld))
            low_best, high_best = best.interval(expression)
            assert low_best >= 1 and high_best <= k_of(t, column) - 1, (
                f"{name} is pinned to [{low}, {high}], though withholding more cells would hide it "
                f"([{low_best}, {high_best}])")
    check_lines(t, withheld)


def check_lines(t: CountTable, withheld) -> None:
    """Rule 3(b): no line's withheld part, a difference of published cells, is a small count."""
    shown = lambda r, c: (r, c) not in withheld  # noqa: E731
    if t.rows:
        for c in t.columns:
            if shown(TOTAL, c):
                part = sum(t.values[r, c] for r in t.rows if not shown(r, c))
                assert not small(t, part, c), f"column {c}: the withheld groups add up to {part}"
    for c, a in pairs(t):
        gaps = {r: t.values[r, a] - t.values[r, c] for r in (*t.rows, TOTAL)}
        # A small TOTAL complement with both cells published is pinned already (the attacker check excuses it only
        # when nothing can hide it); then the sum over the groups is that same count, not a new one.
        if t.rows and shown(TOTAL, c) and shown(TOTAL, a) and not small(t, gaps[TOTAL], c):
            part = gaps[TOTAL] - sum(gaps[r] for r in t.rows if shown(r, c) and shown(r, a))
            assert not small(t, part, c), f"complements {a} - {c}: the groups not worked out add up to {part}"
        for r in t.rows:
            if shown(r, c) and shown(r, a) and small(t, gaps[r], c):
                # Only excused where nothing can hide it (the attacker check has judged that already).
                assert Attacker(t, most_withheld(t, withheld)).interval({(r, a): 1, (r, c): -1}) == (gaps[r], gaps[r])


# ---------------------------------------------------------------------------------------------------------------
# Hypothesis: random valid tables, small counts with many zeros, so that every rule fires often

COUNTS = st.one_of(st.just(0), st.integers(1, 4), st.integers(0, 15))


@st.composite
def tables(draw) -> CountTable:
    n_rows, n_columns = draw(st.integers(0, 8)), draw(st.integers(1, 6))
    rows, columns = tuple(f"g{i}" for i in range(n_rows)), tuple(f"m{i}" for i in range(n_columns))
    nested, depth = {}, {}
    for i, c in enumerate(columns):  # a forest, depth <= 2
        parents = [p for p in columns[:i] if depth[p] < 2]
        parent = draw(st.none() | st.sampled_from(parents)) if parents else None
        depth[c] = 0 if parent is None else depth[parent] + 1
        if parent is not None:
            nested[c] = parent
    k = {c: draw(st.integers(2, 10)) for c in columns if draw(st.booleans()) or draw(st.booleans())}
    exempt = frozenset(c for c in columns if draw(st.integers(0, 4)) == 0)

    def counts() -> dict[str, int]:
        line = {}
        for c in columns:  # parents come first
            if c in nested:
                top = line[nested[c]]
                line[c] = draw(st.one_of(st.just(top), st.integers(0, top), COUNTS.map(lambda v, top=top: min(v, top))))
            else:
                line[c] = draw(COUNTS)
        return line

    values = {(r, c): v for r in rows for c, v in counts().items()}
    if rows:
        values.update({(TOTAL, c): sum(values[r, c] for r in rows) for c in columns})
    else:
        values.update({(TOTAL, c): v for c, v in counts().items()})
    return CountTable(rows=rows, columns=columns, values=values, nested=nested, k=k, exempt=exempt)


def reordered(t: CountTable, seed: int) -> CountTable:
    """The same table with its mappings built in another order."""
    rng = random.Random(seed)

    def shuffled(mapping):
        items = list(mapping.items())
        rng.shuffle(items)
        return dict(items)

    return CountTable(rows=t.rows, columns=t.columns, values=shuffled(t.values), nested=shuffled(t.nested),
                      k=shuffled(t.k), exempt=frozenset(sorted(t.exempt, reverse=True)))


@settings(max_examples=300, deadline=None)
@given(t=tables(), seed=st.integers(0, 2**16))
@example(t=HARD_CASES["a whole block of cases moves between groups, ancestors and siblings included"], seed=0)
@example(t=HARD_CASES["a grandchild pinned below two exempt ancestors"], seed=0)
@example(t=EXAMPLES["a small complement under an exempt child: the parent goes"][0], seed=0)  # once marked pinned
def test_nothing_small_can_be_worked_out(t, seed):
    withheld = suppress(t)
    audit(t, withheld)
    assert suppress(reordered(t, seed)) == withheld  # deterministic, whatever order the mappings come in

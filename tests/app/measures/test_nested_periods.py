"""Answers over nested and overlapping whole periods give nothing away together (app.measures.disclosure.nested).

Hypothesis builds synthetic referrals day by day over two financial years (some in groups, as a neighbourhood
breakdown would have them), and the real disclosure code publishes every run of whole months, quarters and years,
with each run of whole quarters broken down by group, exactly as app.measures.compute asks it to. An attacker then
holds every answer at once:

- the difference of any two published totals whose periods nest, and of their complements (referrals that are not
  repeats), is never a small count (1..k-1): it is the count of the months between them;
- a published total less the published months, quarters or groups inside it is never small;
- linear programming (HiGHS) over every published figure cannot pin any small month, quarter, year or group cell,
  nor any small complement of a month, inside 1..k-1 (it can always be 0 or k or more in a table consistent with
  everything published).
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import qr
from scipy.optimize import linprog

from app.measures.disclosure.nested import (
    Shape,
    decide_groups,
    decide_years,
    month_index,
    month_of,
    run_groups,
    with_every_group,
)

K = 5
SHAPE = Shape(columns=("referrals", "repeats", "children"), nested={"repeats": "referrals"})
FIRST = date(2024, 4, 1)  # two financial years: April 2024 to March 2026
MONTHS = [month_of(month_index(FIRST) + i) for i in range(24)]
QUARTERS = MONTHS[::3]
GRAINS = {"month": 1, "quarter": 3, "year": 12}


def small(value) -> bool:
    return 1 <= value <= K - 1


@st.composite
def referrals(draw):
    """Referrals as (day, group, repeat?, children): mostly few a month, so small counts are common."""
    groups = draw(st.integers(0, 3))
    busy = draw(st.sets(st.integers(0, 23), max_size=8))  # some months have many
    days = []
    for m in range(24):
        n = draw(st.integers(0, 12 if m in busy else 4))
        for _ in range(n):
            start = MONTHS[m]
            length = (month_of(month_index(start) + 1) - start).days
            day = start + timedelta(days=draw(st.integers(0, length - 1)))
            days.append((day, draw(st.integers(0, max(groups - 1, 0))), draw(st.booleans()),
                         draw(st.sampled_from((0, 0, 1, 2)))))
    return groups, days


def daily_counts(days) -> dict[date, dict[str, int]]:
    counts: dict[date, dict[str, int]] = {}
    for day, _, repeat, children in days:
        row = counts.setdefault(day, dict.fromkeys(SHAPE.columns, 0))
        row["referrals"] += 1
        row["repeats"] += repeat
        row["children"] += children
    return counts


def by_month(days, key=lambda d: None) -> dict:
    """Daily counts added up by month (and by key), as the rollup and the facts' query give them."""
    out: dict = {}
    for day, counts in daily_counts(days).items():
        row = out.setdefault(day.replace(day=1), dict.fromkeys(SHAPE.columns, 0))
        for c in SHAPE.columns:
            row[c] += counts[c]
    return out


def runs(grain: str) -> list[tuple[int, int]]:
    """Every run of whole periods of the grain in the two years, as (first month, last month) indexes."""
    size = GRAINS[grain]
    starts = range(0, 24, size)
    return [(a, b + size - 1) for a in starts for b in starts if a <= b]


def publish(groups: int, days):
    """Every answer the service would give: totals of every run, and each run of quarters by group."""
    months = by_month(days)
    hierarchy = decide_years(SHAPE, months, MONTHS[0], MONTHS[-1])
    totals = {}
    for grain in GRAINS:
        for a, b in runs(grain):
            values, withheld = hierarchy.run(MONTHS[a], MONTHS[b])
            totals[a, b] = {c: values[c] for c in SHAPE.columns if c not in withheld}
    grouped = {}
    if groups:
        per_quarter = {q: {} for q in QUARTERS}
        for day, group, repeat, children in days:
            q = QUARTERS[MONTHS.index(day.replace(day=1)) // 3]
            row = per_quarter[q].setdefault(f"g{group}", dict.fromkeys(SHAPE.columns, 0))
            row["referrals"] += 1
            row["repeats"] += repeat
            row["children"] += children
        for a, b in runs("quarter"):
            quarters = with_every_group(SHAPE, {q: per_quarter[q] for q in QUARTERS[a // 3:b // 3 + 1]})
            values, withheld = run_groups(SHAPE, quarters, decide_groups(hierarchy, quarters))
            grouped[a, b] = {(g, c): values[g][c] for g in values for c in SHAPE.columns if c not in withheld[g]}
    return months, totals, grouped


def true_value(months, a: int, b: int, column: str) -> int:
    return sum(months.get(MONTHS[m], {}).get(column, 0) for m in range(a, b + 1))


def check_differences(totals) -> None:
    """Nested published totals never differ by a small count, nor do their complements."""
    for (a, b), outer in totals.items():
        for (c, d), inner in totals.items():
            if (a, b) == (c, d) or not (a <= c and d <= b):
                continue
            for column in SHAPE.columns:
                if column in outer and column in inner:
                    assert not small(outer[column] - inner[column]), ((a, b), (c, d), column)
            if all(x in outer and x in inner for x in ("referrals", "repeats")):
                gap = (outer["referrals"] - outer["repeats"]) - (inner["referrals"] - inner["repeats"])
                assert not small(gap), ((a, b), (c, d), "referrals less repeats")


def check_totals_less_parts(totals, grouped) -> None:
    """A published total less the published months, quarters (or groups) inside it is never small."""
    for (a, b), outer in totals.items():
        for size in (1, 3):
            parts = [(m, m + size - 1) for m in range(a, b + 1, size) if m % size == 0 and m + size - 1 <= b]
            for column, value in outer.items():
                rest = value - sum(totals[p][column] for p in parts if column in totals[p])
                assert not small(rest), ((a, b), size, column)
        for column, value in outer.items():
            if (a, b) in grouped:
                rest = value - sum(v for (g, c), v in grouped[a, b].items() if c == column)
                assert not small(rest), ((a, b), "groups", column)


def _independent(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same equations without the ones the others imply (most answers are sums of others): a smaller LP."""
    _, r, pivots = qr(a.T, pivoting=True, mode="economic")
    rank = int((np.abs(np.diag(r)) > 1e-9 * max(1.0, abs(r[0, 0]))).sum()) if r.size else 0
    keep = np.sort(pivots[:rank])
    return a[keep], b[keep]


def attack(groups: int, days, months, totals, grouped) -> None:
    """Linear programming over everything published cannot pin a small cell inside 1..k-1."""
    labels = [f"g{g}" for g in range(groups)]
    index: dict = {}
    for m in range(24):
        for c in SHAPE.columns:
            index["m", m, c] = len(index)
    for q in range(8):
        for g in labels:
            for c in SHAPE.columns:
                index["g", q, g, c] = len(index)
    rows, rhs = [], []

    def equal(terms: dict, value: float) -> None:
        row = np.zeros(len(index))
        for key, weight in terms.items():
            row[index[key]] += weight
        rows.append(row)
        rhs.append(value)

    for (a, b), published in totals.items():
        for c, value in published.items():
            equal({("m", m, c): 1 for m in range(a, b + 1)}, value)
    for (a, b), published in grouped.items():
        for (g, c), value in published.items():
            equal({("g", q, g, c): 1 for q in range(a // 3, b // 3 + 1)}, value)
    if labels:  # the groups of a quarter add up to its months
        for q in range(8):
            for c in SHAPE.columns:
                equal({**{("m", m, c): 1 for m in range(3 * q, 3 * q + 3)},
                       **{("g", q, g, c): -1 for g in labels}}, 0)
    upper, ub = [], []  # repeats within referrals, in every month and group cell
    for key in index:
        if key[-1] == "repeats":
            row = np.zeros(len(index))
            row[index[key]] = 1
            row[index[(*key[:-1], "referrals")]] = -1
            upper.append(row)
            ub.append(0)
    a_eq, b_eq = _independent(np.array(rows), np.array(rhs)) if rows else (None, None)
    a_ub, b_ub = np.array(upper), np.array(ub)

    def bound(objective: dict, sign: int) -> float:
        """The quantity's least (sign 1) or greatest (sign -1) value in any table consistent with the answers."""
        cost = np.zeros(len(index))
        for key, weight in objective.items():
            cost[index[key]] += weight
        result = linprog(sign * cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert result.status in (0, 3), result.message  # 3: unbounded above, which pins nothing
        return sign * result.fun if result.status == 0 else np.inf

    quantities = []
    for size in (1, 3, 12):
        for start in range(0, 24, size):
            for c in SHAPE.columns:
                if small(true_value(months, start, start + size - 1, c)):
                    quantities.append(({("m", m, c): 1 for m in range(start, start + size)}, (start, size, c)))
    for m in range(24):
        row = months.get(MONTHS[m], {})
        if small(row.get("referrals", 0) - row.get("repeats", 0)):
            quantities.append(({("m", m, "referrals"): 1, ("m", m, "repeats"): -1}, (m, "complement")))
    if labels:
        for q in range(8):
            for g in labels:
                cells = [d for d in days if QUARTERS[MONTHS.index(d[0].replace(day=1)) // 3] == QUARTERS[q]
                         and f"g{d[1]}" == g]
                counts = {"referrals": len(cells), "repeats": sum(d[2] for d in cells),
                          "children": sum(d[3] for d in cells)}
                for c in SHAPE.columns:
                    if small(counts[c]):
                        quantities.append(({("g", q, g, c): 1}, (q, g, c)))
    for objective, where in quantities:  # pinned inside 1..k-1 unless it can be 0 (or below 1) or k or more
        assert bound(objective, 1) < 1 - 1e-6 or bound(objective, -1) > K - 1 + 1e-6, where


@settings(max_examples=150, deadline=None)
@given(data=referrals())
def test_nested_answers_never_differ_by_a_small_count(data):
    groups, days = data
    _, totals, grouped = publish(groups, days)
    check_differences(totals)
    check_totals_less_parts(totals, grouped)


@settings(max_examples=60, deadline=None)  # two linear programs per small quantity: slower, so fewer tables
@given(data=referrals())
def test_no_withheld_count_can_be_pinned_from_every_answer_at_once(data):
    groups, days = data
    months, totals, grouped = publish(groups, days)
    attack(groups, days, months, totals, grouped)


def test_a_quarter_is_withheld_when_the_year_less_it_would_be_small():
    """The differencing attack on whole periods: the year is 13, the quarter 12; so the quarter is withheld."""
    days = [(date(2024, 4, 1 + i), 0, False, 0) for i in range(12)] + [(date(2024, 7, 1), 0, False, 0)]
    _, totals, _ = publish(0, days)
    assert totals[0, 11]["referrals"] == 13  # the year
    assert "referrals" not in totals[0, 2]  # April to June
    assert "referrals" not in totals[3, 11]  # nor July to March, the 1 itself
    check_differences(totals)

"""Compute a panel's measures for a period, optionally broken down, with disclosure control applied once.

A whole period's figures come from the days kept ahead (app.measures.rollup); a breakdown comes from one aggregate
query over the panel's facts grouped by the breakdown (and one more for the whole period's medians). Nothing is
counted row by row. Every figure then passes through app.measures.disclosure before anyone sees it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, literal, select, text

from app.core import audit
from app.core.extensions import db
from app.measures import rollup
from app.measures.definition import COUNTED, Measure, MeasureSet, Median, Rate, Share
from app.measures.disclosure import TOTAL, CountTable, suppress
from app.measures.periods import InvalidQuery, Period, parse, rolling_12_months
from app.measures.sql import median, year_month

BREAKDOWNS = {"neighbourhood": "Neighbourhood", "source_agency": "Source agency",
              "source_agency_kind": "Kind of source agency", "month": "Month of referral"}
NOT_RECORDED = "Not recorded"


@dataclass(frozen=True)
class Figure:
    """One measure's published value: None when suppressed, or when there is nothing to measure."""

    measure: Measure
    value: int | float | None
    suppressed: bool = False

    def as_dict(self) -> dict:
        m = self.measure
        return {"key": m.key, "title": m.title, "definition": m.definition, "value": self.value,
                "suppressed": self.suppressed}


@dataclass(frozen=True)
class Group:
    label: str
    figures: list[Figure]


@dataclass(frozen=True)
class Results:
    measure_set: MeasureSet
    period: Period
    by: str | None
    figures: list[Figure]
    groups: list[Group]

    def as_dict(self) -> dict:
        body = {"panel": self.measure_set.panel, "from": self.period.start.isoformat(),
                "to": self.period.end.isoformat(), "measures": [f.as_dict() for f in self.figures]}
        if self.by:
            body["breakdown"] = self.by
            body["by"] = [{"group": g.label, "measures": [f.as_dict() for f in g.figures]} for g in self.groups]
        return body


def measure_sets() -> dict[str, MeasureSet]:
    """Every panel's measures, in the panels' order."""
    return {key: p.measures for key, p in current_app.extensions["panels"].items() if p.measures}


MEASURES_JOB = "refresh-measures"


def refresh_kept_days(now: datetime) -> str:
    """Rebuild every panel's stale days of measures (the scheduler's job, so that requests seldom need to)."""
    rebuilt = sum(rollup.refresh(measure_set) for measure_set in measure_sets().values())
    db.session.commit()
    return f"{rebuilt} days of measures rebuilt"


def read_query(panel: str, start: str | None, end: str | None, by: str | None,
               today: date) -> tuple[MeasureSet, Period, str | None]:
    """Check a request for measures (panel, from, to, by); raise InvalidQuery with a message per field."""
    errors: dict[str, str] = {}
    sets = measure_sets()
    measure_set = sets.get(panel)
    if measure_set is None:
        errors["panel"] = f"There are no measures for a panel called {panel!r}; choose one of: {', '.join(sets)}"
    try:
        period = parse(start, end, default=rolling_12_months(today))
    except InvalidQuery as exc:
        errors.update(exc.errors)
    if by is not None and (measure_set is None or by not in measure_set.breakdowns):
        allowed = measure_set.breakdowns if measure_set else tuple(BREAKDOWNS)
        errors["by"] = f"Break the figures down by one of: {', '.join(allowed)}"
    if errors:
        raise InvalidQuery(errors)
    return measure_set, period, by


def answer(panel: str, args: Mapping[str, str], today: date) -> Results:
    """Check a request's panel, from, to and by; compute the figures; audit the read (InvalidQuery if unusable)."""
    measure_set, period, by = read_query(panel, args.get("from"), args.get("to"), args.get("by"), today)
    results = compute(measure_set, period, by)
    audit.record("measures.read", detail=f"panel={panel} from={period.start} to={period.end} by={by or '-'}")
    return results


def compute(measure_set: MeasureSet, period: Period, by: str | None = None) -> Results:
    """Run the panel's measures for the period (by referral date), broken down if asked, with disclosure control."""
    groups: dict[str, dict] = {}
    if not by:
        whole = rollup.whole_period(measure_set, period.start, period.end)
    else:
        _plan_for_these_dates()
        facts = measure_set.facts().subquery("facts")
        aggregates = _aggregates(measure_set, facts.c)
        in_period = facts.c.referred_on.between(period.start, period.end)
        group = _group_by(by, facts.c).label("grp")
        for row in db.session.execute(select(group, *aggregates).where(in_period).group_by(group).order_by(group)):
            groups[row.grp] = dict(row._mapping)
        if by == "month":  # a month without referrals is a row of zeros, not a gap in the chart
            groups = {m: groups.get(m) or _empty(measure_set) for m in period.months()}
        whole = dict(db.session.execute(select(*aggregates).where(in_period)).one()._mapping)
        # The counts of the whole period are the groups' sums, so they add up exactly even if a case moved between
        # the two statements; the whole period's medians cannot be added up, so they come from the second.
        for m in measure_set.measures:
            if isinstance(m, COUNTED):
                whole[m.key] = sum(int(values[m.key]) for values in groups.values())
    hidden = suppress(_count_table(measure_set, whole, groups))
    return Results(measure_set, period, by, _figures(measure_set, period, whole, TOTAL, hidden),
                   [Group(label, _figures(measure_set, period, values, label, hidden))
                    for label, values in groups.items()])


def _plan_for_these_dates() -> None:
    """Have PostgreSQL plan the measures for the period asked, every time.

    psycopg prepares a statement after a few runs, and PostgreSQL may then keep a generic plan that guesses a
    period holds a few thousand cases: nested loops that suit a year and take seconds over ten (bench/README.md).
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def threshold(measure_set: MeasureSet, measure: Measure) -> int:
    """The smallest count shown (k): the panel-and-measure setting if there is one, else the general setting."""
    config = current_app.config
    return int(config["MEASURES_THRESHOLDS"].get(f"{measure_set.panel}.{measure.key}", config["MEASURES_THRESHOLD"]))


def _aggregates(measure_set: MeasureSet, c) -> list:
    columns = []
    for m in measure_set.measures:
        if isinstance(m, COUNTED):
            columns.append(m.aggregate(c).label(m.key))
        elif isinstance(m, Median):
            days = m.days(c)
            columns += [median(days).label(m.key), func.count(days).label(f"{m.key}__n")]
    return columns


def _group_by(by: str, c):
    if by == "neighbourhood":
        return func.coalesce(c.neighbourhood, literal(NOT_RECORDED))
    if by == "source_agency":
        return c.source_agency
    if by == "source_agency_kind":
        return c.source_kind
    return year_month(c.referred_on)


def _empty(measure_set: MeasureSet) -> dict:
    values = {}
    for m in measure_set.measures:
        if isinstance(m, COUNTED):
            values[m.key] = 0
        elif isinstance(m, Median):
            values[m.key], values[f"{m.key}__n"] = None, 0
    return values


def _count_table(measure_set: MeasureSet, whole: dict, groups: dict[str, dict]) -> CountTable:
    counted = [m for m in measure_set.measures if isinstance(m, COUNTED)]
    values = {(TOTAL, m.key): int(whole[m.key]) for m in counted}
    values.update({(label, m.key): int(row[m.key]) for label, row in groups.items() for m in counted})
    return CountTable(rows=tuple(groups), columns=tuple(m.key for m in counted), values=values,
                      nested={m.key: m.within for m in counted if m.within},
                      k={m.key: threshold(measure_set, m) for m in counted},
                      exempt=frozenset(m.key for m in counted if m.published_whole))


def _figures(measure_set: MeasureSet, period: Period, values: dict, row: str,
             hidden: frozenset[tuple[str, str]]) -> list[Figure]:
    figures = []
    for m in measure_set.measures:
        if isinstance(m, COUNTED):
            shown = (row, m.key) not in hidden
            figures.append(Figure(m, int(values[m.key]) if shown else None, not shown))
        elif isinstance(m, Share):
            part, whole = int(values[m.part]), int(values[m.whole])
            if (row, m.part) in hidden or (row, m.whole) in hidden:
                figures.append(Figure(m, None, True))
            else:
                figures.append(Figure(m, round(100 * part / whole, 1) if whole else None))
        elif isinstance(m, Rate):
            population = m.population()
            if not population:
                continue  # the area has not configured the population this rate needs
            if (row, m.count) in hidden:
                figures.append(Figure(m, None, True))
            else:
                figures.append(Figure(m, round(int(values[m.count]) * m.per / population * 365 / period.days, 1)))
        elif isinstance(m, Median):
            n = int(values[f"{m.key}__n"])
            if 0 < n < threshold(measure_set, m):
                figures.append(Figure(m, None, True))
            else:
                figures.append(Figure(m, round(float(values[m.key]), 1) if n else None))
    return figures

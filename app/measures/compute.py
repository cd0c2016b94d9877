"""Compute a panel's measures for a period, optionally broken down, with disclosure control applied once.

Periods are runs of whole months (app.measures.periods). The counts come per month: from the days kept ahead
(app.measures.rollup), or for a breakdown by group from one aggregate query over the panel's facts grouped by month
and group; medians from one more query over the period. Nothing is counted row by row. Every count then passes
through app.measures.disclosure.nested, which decides the financial years holding the period, their quarters and
months together, so that no answer, nor any difference of answers, gives away what another withholds.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import func, literal, select, text

from app.core import audit
from app.core.extensions import db
from app.core.timeutil import add_months
from app.measures import rollup
from app.measures.definition import COUNTED, Measure, MeasureSet, Median, Rate, Share
from app.measures.disclosure import TOTAL
from app.measures.disclosure.nested import (
    Shape,
    decide_groups,
    decide_years,
    run_groups,
    with_every_group,
    year_start,
)
from app.measures.periods import MAX_CELLS, InvalidQuery, Period, last_complete_month, parse, starts_period
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


def read_query(panel: str, args: Mapping[str, str], today: date) -> tuple[MeasureSet, Period, str | None]:
    """Check a request for measures (panel, from, to, grain, by); raise InvalidQuery with a message per field."""
    errors: dict[str, str] = {}
    sets = measure_sets()
    measure_set = sets.get(panel)
    if measure_set is None:
        errors["panel"] = f"There are no measures for a panel called {panel!r}; choose one of: {', '.join(sets)}"
    period = None
    try:
        period, _ = parse(args.get("from"), args.get("to"), grain=args.get("grain"), today=today)
    except InvalidQuery as exc:
        errors.update(exc.errors)
    by = args.get("by")
    if by is not None and (measure_set is None or by not in measure_set.breakdowns):
        allowed = measure_set.breakdowns if measure_set else tuple(BREAKDOWNS)
        errors["by"] = f"Break the figures down by one of: {', '.join(allowed)}"
    elif by not in (None, "month") and period is not None:
        # Groups are decided quarter by quarter (app.measures.disclosure.nested, rule 5).
        for field, day in (("from", period.start), ("to", period.end + timedelta(days=1))):
            if not starts_period(day, "quarter"):
                errors[field] = (f"A breakdown by {BREAKDOWNS[by].lower()} is over whole quarters: the {field} date "
                                 f"must be the {'first' if field == 'from' else 'last'} day of a quarter")
    if errors:
        raise InvalidQuery(errors)
    rows = len(period.months()) if by == "month" else 0
    _check_cells(measure_set, rows)
    return measure_set, period, by


def _check_cells(measure_set: MeasureSet, rows: int) -> None:
    """Refuse an answer of more than MAX_CELLS figures (its groups and the whole period's row, by measures)."""
    cells = (rows + 1) * len(measure_set.measures)
    if cells > MAX_CELLS:
        raise InvalidQuery({"by": f"This breakdown would have {cells:,} figures; at most {MAX_CELLS:,} are given "
                                  "at once. Choose a shorter period"})


def answer(panel: str, args: Mapping[str, str], today: date) -> Results:
    """Check a request's panel, from, to, grain and by; compute the figures; audit the read (InvalidQuery if
    unusable)."""
    measure_set, period, by = read_query(panel, args, today)
    results = compute(measure_set, period, by, last_complete_month(today))
    audit.record("measures.read", detail=f"panel={panel} from={period.start} to={period.end} by={by or '-'}")
    return results


def shape(measure_set: MeasureSet) -> Shape:
    """The counted columns of a panel's measures, as disclosure control sees them."""
    counted = [m for m in measure_set.measures if isinstance(m, COUNTED)]
    return Shape(columns=tuple(m.key for m in counted), nested={m.key: m.within for m in counted if m.within},
                 k={m.key: threshold(measure_set, m) for m in counted},
                 exempt=frozenset(m.key for m in counted if m.published_whole))


def compute(measure_set: MeasureSet, period: Period, by: str | None = None, complete: date | None = None) -> Results:
    """Run the panel's measures for a run of whole months (by referral date), broken down if asked, with disclosure
    control decided over the financial years holding it (app.measures.disclosure.nested).

    complete: the last day of the last complete month. Disclosure control is decided on complete months only, the
    months after it counting nothing: what a month still going on holds would otherwise change, from one day to the
    next, which of the published months are withheld.
    """
    columns = shape(measure_set)
    months = period.month_starts()
    years = (year_start(months[0]), add_months(year_start(months[-1]), 12) - timedelta(days=1))
    counted = (years[0], min(years[1], complete or years[1]))
    groups: dict[str, dict] = {}
    withheld: dict[str, frozenset[str]] = {}
    if by in (None, "month"):
        hierarchy = decide_years(columns, rollup.monthly_counts(measure_set, *counted), *years)
        if by:
            medians = _medians(measure_set, period, by)
            for month in months:
                label = f"{month:%Y-%m}"
                groups[label] = {**hierarchy.values["month", month], **medians.get(label, _no_medians(measure_set))}
                withheld[label] = hierarchy.withheld["month", month]
            whole = _medians(measure_set, period, None)[None]
        else:
            whole = rollup.whole_period(measure_set, period.start, period.end)
    else:
        by_month = _group_counts(measure_set, by, *counted)
        monthly: dict[date, dict[str, int]] = {}
        for (month, _), counts in by_month.items():
            row = monthly.setdefault(month, dict.fromkeys(columns.columns, 0))
            for c in columns.columns:
                row[c] += counts[c]
        hierarchy = decide_years(columns, monthly, *years)
        quarters: dict[date, dict[str, dict[str, int]]] = {q: {} for q in months[::3]}
        for (month, label), counts in by_month.items():
            q = add_months(month, -((month.month - 1) % 3))
            if q in quarters and month <= months[-1]:
                row = quarters[q].setdefault(label, dict.fromkeys(columns.columns, 0))
                for c in columns.columns:
                    row[c] += counts[c]
        quarters = with_every_group(columns, quarters)
        _check_cells(measure_set, len(next(iter(quarters.values()), {})))
        values, withheld = run_groups(columns, quarters, decide_groups(hierarchy, quarters))
        medians = _medians(measure_set, period, by)
        groups = {label: {**values[label], **medians.get(label, _no_medians(measure_set))} for label in values}
        whole = _medians(measure_set, period, None)[None]
    total, total_withheld = hierarchy.run(months[0], months[-1])
    whole = {**whole, **total}
    hidden = frozenset({(TOTAL, c) for c in total_withheld}
                       | {(label, c) for label, cs in withheld.items() for c in cs})
    return Results(measure_set, period, by, _figures(measure_set, period, whole, TOTAL, hidden),
                   [Group(label, _figures(measure_set, period, values, label, hidden))
                    for label, values in groups.items()])


def _group_counts(measure_set: MeasureSet, by: str, start: date, end: date) -> dict[tuple[date, str], dict]:
    """The counts per month and group between two days, in one aggregate query over the facts."""
    _plan_for_these_dates()
    facts = measure_set.facts().subquery("facts")
    counted = [m for m in measure_set.measures if isinstance(m, COUNTED)]
    month, group = year_month(facts.c.referred_on).label("month"), _group_by(by, facts.c).label("grp")
    rows = db.session.execute(select(month, group, *(m.aggregate(facts.c).label(m.key) for m in counted))
                              .where(facts.c.referred_on.between(start, end)).group_by(month, group))
    return {(date.fromisoformat(f"{row.month}-01"), row.grp): {m.key: int(row._mapping[m.key]) for m in counted}
            for row in rows}


def _medians(measure_set: MeasureSet, period: Period, by: str | None) -> dict:
    """Each group's medians and their numbers of cases over the period (by None: the whole period's, under None)."""
    medians = [m for m in measure_set.measures if isinstance(m, Median)]
    if not medians:
        return {None: {}} if by is None else {}
    _plan_for_these_dates()
    facts = measure_set.facts().subquery("facts")
    columns = []
    for m in medians:
        days = m.days(facts.c)
        columns += [median(days).label(m.key), func.count(days).label(f"{m.key}__n")]
    statement = select(*columns).where(facts.c.referred_on.between(period.start, period.end))
    if by is None:
        return {None: dict(db.session.execute(statement).one()._mapping)}
    group = _group_by(by, facts.c).label("grp")
    return {row.grp: {k: v for k, v in row._mapping.items() if k != "grp"}
            for row in db.session.execute(statement.add_columns(group).group_by(group))}


def _no_medians(measure_set: MeasureSet) -> dict:
    values = {}
    for m in measure_set.measures:
        if isinstance(m, Median):
            values[m.key], values[f"{m.key}__n"] = None, 0
    return values


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


def _group_by(by: str, c):
    if by == "neighbourhood":
        return func.coalesce(c.neighbourhood, literal(NOT_RECORDED))
    if by == "source_agency":
        return c.source_agency
    if by == "source_agency_kind":
        return c.source_kind
    return year_month(c.referred_on)


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

"""Measures kept ahead, per referral day, so a long period sums a few rows a day instead of scanning every case.

Each panel's counts, and each median's histogram of days, are kept per referral day in `measure_days`. Any move of
a case (case_moved, sent by the engine inside the move's own transaction) marks its referral day stale; before a
period is answered its panel's stale days are rebuilt from the facts, so the figures are always current. A
breakdown by group is answered from the facts directly (app.measures.compute).
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, Integer, String, delete, func, insert, literal, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from app.core.extensions import db
from app.measures.definition import COUNTED, MeasureSet, Median
from app.measures.sql import year_month

#: Days rebuilt at once after which PostgreSQL is given fresh statistics of the table.
LARGE_REBUILD = 1000
COUNT = 0  # the value column of a count's row (a median's rows hold their number of days there)


class MeasureDay(db.Model):
    """One count of a panel's measure for one referral day, or one bar of a median's histogram of days."""

    __tablename__ = "measure_days"
    panel: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)


class StaleMeasureDay(db.Model):
    """A referral day whose cases have moved since its measures were kept."""

    __tablename__ = "measure_days_stale"
    panel: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


#: The statement that marks a day stale, built once per database kind: every transition runs it.
_MARK_STALE = {name: dialect.insert(StaleMeasureDay).on_conflict_do_nothing()
               for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))}


def mark_stale(panel: str, day: date) -> None:
    """Mark a panel's referral day for rebuilding (in the caller's transaction; once is enough)."""
    db.session.execute(_MARK_STALE[db.session.get_bind().dialect.name], {"panel": panel, "day": day})


def case_moved(case, record) -> None:
    """The engine moved a case: the measures kept for its referral day are out of date (in the move's transaction)."""
    mark_stale(case.panel, case.referred_on)


def mark_all_stale() -> None:
    """Mark every referral day of every case stale (after data was loaded without the engine)."""
    from app.core.models import Case

    db.session.execute(delete(StaleMeasureDay))
    db.session.execute(insert(StaleMeasureDay).from_select(
        ["panel", "day"], select(Case.panel, Case.referred_on).distinct()))


def refresh(measure_set: MeasureSet) -> int:
    """Rebuild the panel's stale days from its facts (in the caller's transaction); return how many."""
    panel = measure_set.panel
    stale = select(StaleMeasureDay.day).where(StaleMeasureDay.panel == panel)
    days = db.session.scalars(stale.with_for_update()).all()  # a second refresher waits, then finds none
    if not days:
        return 0
    # The days locked above, by value: a day marked stale meanwhile waits for the next refresh (a subquery here
    # could see it in one statement and not in the next, and insert a day whose rows were never deleted).
    db.session.execute(delete(MeasureDay).where(MeasureDay.panel == panel, MeasureDay.day.in_(days)))
    facts = measure_set.facts().subquery("facts")
    on_stale_days = facts.c.referred_on.in_(days)
    for m in measure_set.measures:
        if isinstance(m, COUNTED):
            rows = (select(literal(panel), facts.c.referred_on, literal(m.key), literal(COUNT), m.aggregate(facts.c))
                    .where(on_stale_days).group_by(facts.c.referred_on))
        elif isinstance(m, Median):
            days_ = m.days(facts.c)
            rows = (select(literal(panel), facts.c.referred_on, literal(m.key), days_, func.count())
                    .where(on_stale_days, days_.is_not(None)).group_by(facts.c.referred_on, days_))
        else:
            continue
        db.session.execute(insert(MeasureDay).from_select(["panel", "day", "key", "value", "n"], rows))
    db.session.execute(delete(StaleMeasureDay).where(StaleMeasureDay.panel == panel,
                                                     StaleMeasureDay.day.in_(days)))
    if len(days) >= LARGE_REBUILD and db.session.get_bind().dialect.name == "postgresql":
        # Thousands of new rows at once: without fresh statistics the planner takes the table for empty and walks
        # the index row by row (seconds, not milliseconds) until autovacuum gets round to analysing it.
        db.session.execute(text("ANALYZE measure_days"))
    return len(days)


def whole_period(measure_set: MeasureSet, start: date, end: date) -> dict:
    """The period's figures as the facts' aggregate query would give them: counts, and each median with its n."""
    refresh(measure_set)
    counted = [m.key for m in measure_set.measures if isinstance(m, COUNTED)]
    medians = [m.key for m in measure_set.measures if isinstance(m, Median)]
    values: dict = dict.fromkeys(counted, 0)
    histograms: dict[str, list[tuple[int, int]]] = {key: [] for key in medians}
    # One pass over the period's rows: a count's rows all hold value 0, a median's one row per number of days.
    for key, value, n in db.session.execute(
            select(MeasureDay.key, MeasureDay.value, func.sum(MeasureDay.n))
            .where(MeasureDay.panel == measure_set.panel, MeasureDay.day.between(start, end))
            .group_by(MeasureDay.key, MeasureDay.value).order_by(MeasureDay.key, MeasureDay.value)):
        if key in histograms:
            histograms[key].append((value, int(n)))
        elif key in values:
            values[key] += int(n)
    for key, bars in histograms.items():
        values[key], values[f"{key}__n"] = _median(bars), sum(n for _, n in bars)
    return values


def _median(bars: list[tuple[int, int]]) -> float | None:
    """The median of a histogram (value, how many) in value order: the mean of the two middle values."""
    total = sum(n for _, n in bars)
    if not total:
        return None
    lower, upper = (total + 1) // 2, total // 2 + 1  # 1-based positions of the middle value(s)
    seen, found = 0, []
    for value, n in bars:
        seen += n
        while len(found) < 2 and seen >= (lower, upper)[len(found)]:
            found.append(value)
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def monthly_counts(measure_set: MeasureSet, start: date, end: date) -> dict[date, dict[str, int]]:
    """Each month's counts between two days (first days of months wanted whole), summed from the days kept."""
    refresh(measure_set)
    counted = [m.key for m in measure_set.measures if isinstance(m, COUNTED)]
    month = year_month(MeasureDay.day)
    out: dict[date, dict[str, int]] = {}
    for label, key, n in db.session.execute(
            select(month, MeasureDay.key, func.sum(MeasureDay.n))
            .where(MeasureDay.panel == measure_set.panel, MeasureDay.day.between(start, end),
                   MeasureDay.key.in_(counted), MeasureDay.value == COUNT)
            .group_by(month, MeasureDay.key)):
        first = date.fromisoformat(f"{label}-01")
        out.setdefault(first, dict.fromkeys(counted, 0))[key] = int(n)
    return out

"""SQL the measures need that the two databases spell differently: medians, days between dates, months.

PostgreSQL has percentile_cont and date subtraction; SQLite has neither, so the embedded database gets a median
aggregate registered on each connection (app.core.database) and julianday arithmetic. Either way the aggregate runs
inside the database's GROUP BY: no case row is loaded into the application.
"""
from __future__ import annotations

from sqlalchemy import Integer
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement, GenericFunction


class median(GenericFunction):  # noqa: N801 (an SQL function's name)
    """The median of a numeric expression over the group, NULLs ignored (NULL when there are none)."""

    inherit_cache = True
    name = "median"


@compiles(median, "postgresql")
def _median_postgresql(element, compiler, **kw):
    return f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {compiler.process(element.clauses, **kw)})"


class days_between(FunctionElement):  # noqa: N801
    """Whole days from the first date to the second (NULL when either is NULL)."""

    inherit_cache = True
    type = Integer()


@compiles(days_between)
def _days_sqlite(element, compiler, **kw):
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_postgresql(element, compiler, **kw):
    earlier, later = (compiler.process(c, **kw) for c in element.clauses)
    return f"({later} - {earlier})"


class year_month(FunctionElement):  # noqa: N801
    """A date's month as YYYY-MM text."""

    inherit_cache = True


@compiles(year_month)
def _month_sqlite(element, compiler, **kw):
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(year_month, "postgresql")
def _month_postgresql(element, compiler, **kw):
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


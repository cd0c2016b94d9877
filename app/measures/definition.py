"""How a panel declares its measures: a key, a title, the sentence shown beside it, and an SQL aggregate.

Every measure is computed over the panel's facts: one row per referral (a select the panel writes from plain
columns and the transition history), filtered to the period by referral date.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, Select, case, func, select

from app.core.models import Agency

#: A function of the facts' columns (facts.c) returning an SQL expression.
Expression = Callable[[object], ColumnElement]


@dataclass(frozen=True)
class Count:
    """How many referrals meet a condition (all of them when `when` is None); a count of people or cases."""

    key: str
    title: str
    definition: str
    when: Expression | None = None
    #: The key of the count whose referrals these are a part of (repeat referrals within referrals): disclosure
    #: control must not let the difference between the two give away a small number.
    within: str | None = None
    #: Published whole whatever its size, because the law requires it (the ASB case review figures).
    published_whole: bool = False

    def aggregate(self, c) -> ColumnElement:
        """The SQL aggregate over the facts' columns."""
        return func.count(case((self.when(c), 1))) if self.when else func.count()


@dataclass(frozen=True)
class Total:
    """The sum of a per-referral number (children in the household); protected like a count."""

    key: str
    title: str
    definition: str
    of: Expression
    published_whole: bool = False
    within: str | None = None

    def aggregate(self, c) -> ColumnElement:
        """The SQL aggregate over the facts' columns (0, not NULL, when there is nothing to add up)."""
        return func.coalesce(func.sum(self.of(c)), 0)


@dataclass(frozen=True)
class Share:
    """One count as a percentage of another."""

    key: str
    title: str
    definition: str
    part: str
    whole: str


@dataclass(frozen=True)
class Rate:
    """A count per so many of a population taken from a setting, scaled to a year; left out when it is not set."""

    key: str
    title: str
    definition: str
    count: str
    population: Callable[[], int | None]
    per: int = 10_000


@dataclass(frozen=True)
class Median:
    """The median of a number of days over the referrals it applies to (NULL for the others)."""

    key: str
    title: str
    definition: str
    days: Expression


Measure = Count | Total | Share | Rate | Median
COUNTED = (Count, Total)


@dataclass(frozen=True)
class MeasureSet:
    """A panel's measures over its facts."""

    panel: str
    title: str
    #: One row per referral with at least referred_on, neighbourhood and source_agency (see case_facts).
    facts: Callable[[], Select]
    measures: tuple[Measure, ...]
    breakdowns: tuple[str, ...] = ("neighbourhood", "source_agency", "source_agency_kind", "month")
    #: The panel's own returns built on these measures, as (link text, endpoint) for the measures page.
    returns: tuple[tuple[str, str], ...] = ()
    by_key: dict[str, Measure] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        keys = [m.key for m in self.measures]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.panel}: measure keys repeat")
        by_key = {m.key: m for m in self.measures}
        for m in self.measures:
            named = {Share: ("part", "whole"), Rate: ("count",)}.get(type(m), ()) + (("within",) if
                                                                                    isinstance(m, COUNTED) else ())
            for attribute in named:
                target = getattr(m, attribute)
                if target is not None and not isinstance(by_key.get(target), COUNTED):
                    raise ValueError(f"{self.panel}.{m.key}: {attribute} names no count ({target!r})")
        object.__setattr__(self, "by_key", by_key)


def case_facts(model, draft: str) -> Select:
    """One row per referral to a panel, with the columns every panel's measures and breakdowns use.

    `model` is the panel's case class (joined to the shared cases table by its inheritance); a case still in the
    `draft` state was never referred, so it is not counted.
    """
    return (select(model.id, model.referred_on, model.closed_on, model.state, model.is_repeat, model.neighbourhood,
                   Agency.name.label("source_agency"), Agency.kind.label("source_kind"))
            .join(Agency, Agency.id == model.source_agency_id)
            .where(model.panel == model.__mapper__.polymorphic_identity, model.state != draft))

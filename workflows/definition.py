"""Workflows declared as data: steps, guards and deadline rules. Knows no panel."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

#: The role the scheduler acts as when a deadline expires.
SYSTEM = "system"


@dataclass(frozen=True)
class Context:
    """Who is acting, when, and with what data."""

    actor: Any  # a User, or None for the system
    roles: frozenset[str]
    now: datetime
    occurred_on: date
    reason: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Guard:
    """A rule that must hold for a step; ``reason`` is the sentence shown when it does not."""

    test: Callable[[Any, Context], bool]
    reason: str

    def passes(self, case, ctx: Context) -> bool:
        return self.test(case, ctx) is True


@dataclass(frozen=True)
class Step:
    """One move of the workflow (a ``transitions`` trigger)."""

    trigger: str
    source: tuple[str, ...]
    dest: str
    roles: frozenset[str]
    label: str
    guards: tuple[Guard, ...] = ()
    needs_reason: bool = False
    #: Checks the step's data and returns field errors ({} when valid). Runs before the guards.
    validate: Callable[[Any, Context], dict[str, str]] | None = None
    #: Changes the panel's data for this step; runs after every check passes, before the state moves.
    effect: Callable[[Any, Context], None] | None = None


@dataclass(frozen=True)
class DeadlineRule:
    """A timescale that opens when a case enters ``state`` and closes when it leaves."""

    state: str
    kind: str
    label: str  # shown to people, e.g. "12-month repeat flag ends"
    due: Callable[[Any, date], date]
    #: The trigger fired by the system when the deadline passes; None just marks it overdue.
    on_expiry: str | None = None


@dataclass(frozen=True)
class Workflow:
    name: str
    states: tuple[str, ...]
    initial: str
    steps: tuple[Step, ...]
    final: frozenset[str] = frozenset()
    #: States in which the case is no longer open (lists, measures); final states always are.
    closed: frozenset[str] = frozenset()
    deadlines: tuple[DeadlineRule, ...] = ()

    @property
    def closed_states(self) -> frozenset[str]:
        return self.final | self.closed

    @property
    def open_states(self) -> tuple[str, ...]:
        return tuple(s for s in self.states if s not in self.closed_states)

    def step(self, trigger: str) -> Step | None:
        return next((s for s in self.steps if s.trigger == trigger), None)

    def steps_from(self, state: str) -> list[Step]:
        return [s for s in self.steps if state in s.source]

    def validate(self) -> None:
        """Raise ValueError on unknown states, duplicate triggers, unreachable states or dead ends."""
        known = set(self.states)
        problems = []
        if self.initial not in known:
            problems.append(f"initial state {self.initial!r} is not declared")
        triggers = [s.trigger for s in self.steps]
        problems += [f"trigger {t!r} is declared twice" for t in set(triggers) if triggers.count(t) > 1]
        for s in self.steps:
            for state in (*s.source, s.dest):
                if state not in known:
                    problems.append(f"step {s.trigger!r} names unknown state {state!r}")
            if not s.roles:
                problems.append(f"step {s.trigger!r} has no role that may take it")
        problems += [f"closed state {st!r} is not declared" for st in sorted(self.closed - known)]
        for rule in self.deadlines:
            if rule.state not in known:
                problems.append(f"deadline {rule.kind!r} names unknown state {rule.state!r}")
            if rule.on_expiry and not self.step(rule.on_expiry):
                problems.append(f"deadline {rule.kind!r} fires unknown trigger {rule.on_expiry!r}")
        reachable, frontier = {self.initial}, [self.initial]
        while frontier:
            state = frontier.pop()
            for s in self.steps_from(state):
                if s.dest not in reachable:
                    reachable.add(s.dest)
                    frontier.append(s.dest)
        problems += [f"state {st!r} is unreachable" for st in self.states if st not in reachable]
        problems += [f"state {st!r} is a dead end but not final" for st in self.states
                     if st not in self.final and not self.steps_from(st)]
        if problems:
            raise ValueError(f"workflow {self.name!r}: " + "; ".join(problems))

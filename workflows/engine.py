"""The engine: one shared ``transitions`` machine per workflow, fire() and available_steps().

fire() checks, in order: the expected version, that the step exists from the current state, the actor's role,
the step's data, then its guards. Only then does the panel's effect run and the state move; the history row,
deadlines and audit row join the same transaction. The caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from blinker import Signal
from sqlalchemy import select, update
from transitions import Machine

from app.core import audit
from app.core.errors import Conflict
from app.core.extensions import db
from workflows.definition import Context, Step, Workflow
from workflows.models import CaseTransition, Deadline

_workflows: dict[str, Workflow] = {}
_machines: dict[str, Machine] = {}

#: Sent after every move, inside the move's transaction, with the case as sender and ``record`` (its history row):
#: listeners (the measures kept per day, say) do their part in the same transaction, or the move fails with them.
case_moved = Signal("case moved")


class WorkflowError(Exception):
    """Base of every refusal; nothing has changed when one is raised."""

    status = 422


class StaleVersion(Conflict, WorkflowError):
    """The case was changed after the caller loaded it: a conflict, shown as every conflict is (409)."""

    status = 409

    def __init__(self, current: int):
        super().__init__("Someone else changed this case",
                         f"The case has changed since you loaded it (now version {current}). Reload and try again.")
        self.current = current


class NotAllowed(WorkflowError):
    """The event does not exist, is not possible from this state, or not for this role."""


class Invalid(WorkflowError):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Blocked(WorkflowError):
    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


@dataclass(frozen=True)
class Available:
    step: Step
    blocked_by: tuple[str, ...]

    @property
    def is_possible(self) -> bool:
        return not self.blocked_by


def register(workflow: Workflow) -> None:
    """Validate a workflow and build its one shared machine (idempotent)."""
    workflow.validate()
    _workflows[workflow.name] = workflow
    _machines[workflow.name] = Machine(
        model=None,
        states=list(workflow.states),
        initial=None,
        transitions=[{"trigger": s.trigger, "source": list(s.source), "dest": s.dest,
                      "conditions": [_guards_hold(s)]} for s in workflow.steps],
        auto_transitions=False,
        send_event=True,
        queued=False,
        after_state_change=[_record],
    )


def workflow_for(case) -> Workflow:
    return _workflows[case.panel]


def workflow_named(name: str) -> Workflow:
    return _workflows[name]


def _guards_hold(step: Step):
    def check(event) -> bool:
        ctx = event.kwargs["ctx"]
        return all(g.passes(event.model, ctx) for g in step.guards)
    return check


def available_steps(case, ctx: Context) -> list[Available]:
    """Return the steps the actor's roles allow from the case's state, each with what blocks it."""
    workflow = workflow_for(case)
    result = []
    for step in workflow.steps_from(case.state):
        if step.roles & ctx.roles:
            blocked = tuple(g.reason for g in step.guards if not g.passes(case, ctx))
            result.append(Available(step, blocked))
    return result


def check(case, trigger: str, ctx: Context, *, expected_version: int | None = None) -> Step:
    """Raise the refusal fire() would raise, or return the step."""
    if expected_version is not None and expected_version != case.version:
        raise StaleVersion(case.version)
    workflow = workflow_for(case)
    step = workflow.step(trigger)
    if step is None:
        raise NotAllowed(f"'{trigger}' is not an event of the {workflow.name} workflow.")
    if case.state not in step.source:
        raise NotAllowed(f"'{step.label}' is not possible while the case is {case.state.replace('_', ' ')}.")
    if not step.roles & ctx.roles:
        raise NotAllowed(f"Your role on this case cannot '{step.label}'.")
    errors = {}
    if step.needs_reason and not (ctx.reason or "").strip():
        errors["reason"] = "Give the reason for this decision"
    if step.validate:
        errors.update(step.validate(case, ctx))
    if errors:
        raise Invalid(errors)
    blocked = [g.reason for g in step.guards if not g.passes(case, ctx)]
    if blocked:
        raise Blocked(blocked)
    return step


def fire(case, trigger: str, ctx: Context, *, expected_version: int | None = None) -> CaseTransition:
    """Move a case along its workflow and record it; the caller commits."""
    step = check(case, trigger, ctx, expected_version=expected_version)
    if case.id is None:
        db.session.add(case)
        db.session.flush()
    holder: dict = {}
    with db.session.no_autoflush:  # the case row is written once, at commit: one step, one version
        if step.effect:
            step.effect(case, ctx)
        moved = _machines[case.panel].events[trigger].trigger(case, ctx=ctx, holder=holder)
    if not moved:  # the machine re-checks the guards; a change between check and move lands here
        raise Blocked([g.reason for g in step.guards if not g.passes(case, ctx)] or ["The step is blocked."])
    return holder["record"]


def _record(event) -> None:
    """Write history, move deadlines and audit, all in the caller's transaction."""
    case, ctx = event.model, event.kwargs["ctx"]
    source, dest = event.transition.source, event.transition.dest
    record = CaseTransition(
        case_id=case.id, trigger=event.event.name, from_state=source, to_state=dest,
        actor_id=getattr(ctx.actor, "id", None), agency_id=getattr(ctx.actor, "agency_id", None),
        occurred_on=ctx.occurred_on, recorded_at=ctx.now,
    )
    if ctx.reason:
        record.reason = ctx.reason.strip()
    db.session.add(record)
    _move_deadlines(case, source, dest, ctx)
    case_moved.send(case, record=record)
    audit.record("case.transition", case_id=case.id, detail=f"{event.event.name}:{source}->{dest}",
                 user=ctx.actor)
    event.kwargs["holder"]["record"] = record


def _move_deadlines(case, source: str, dest: str, ctx: Context) -> None:
    rules = workflow_for(case).deadlines
    if any(rule.state == source for rule in rules):  # only a state with deadline rules can have open deadlines
        db.session.execute(
            update(Deadline)
            .where(Deadline.case_id == case.id, Deadline.state == source, Deadline.closed_at.is_(None))
            .values(closed_at=ctx.now)
        )
    for rule in rules:
        if rule.state == dest:
            db.session.add(Deadline(case_id=case.id, state=dest, kind=rule.kind,
                                    due_on=rule.due(case, ctx.occurred_on), opened_at=ctx.now))


def history(case_id: int) -> list[CaseTransition]:
    return list(db.session.scalars(
        select(CaseTransition).where(CaseTransition.case_id == case_id).order_by(CaseTransition.id)))

"""The generic engine with a tiny throwaway workflow: validation, checks, guards, and the scheduler lease."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from workflows import (
    Blocked,
    Context,
    DeadlineRule,
    Guard,
    Invalid,
    NotAllowed,
    StaleVersion,
    Step,
    Workflow,
    available_steps,
    check,
    engine,
    register,
)
from workflows.models import JobRun
from workflows.scheduler import run_once, window_start

CLERK = frozenset({"clerk"})
NAME = "engine-test-tiny"


def tiny(**changes) -> Workflow:
    """new -> open -> done, with a side road open -> parked -> open."""
    base = Workflow(
        name=NAME,
        states=("new", "open", "parked", "done"),
        initial="new",
        final=frozenset({"done"}),
        steps=(
            Step("start", ("new",), "open", CLERK, "Start"),
            Step("park", ("open",), "parked", CLERK, "Park", needs_reason=True),
            Step("resume", ("parked",), "open", CLERK, "Resume"),
            Step("finish", ("open",), "done", CLERK, "Finish"),
        ),
        deadlines=(DeadlineRule("parked", "parking", "Parking ends", due=lambda case, on: on, on_expiry="resume"),),
    )
    return dataclasses.replace(base, **changes)


def with_step(step: Step) -> Workflow:
    return tiny(steps=(*tiny().steps, step))


def test_tiny_workflow_is_valid():
    assert tiny().validate() is None


@pytest.mark.parametrize("workflow, problem", [
    (tiny(initial="nowhere"), "initial state 'nowhere' is not declared"),
    (with_step(Step("start", ("open",), "done", CLERK, "Again")), "trigger 'start' is declared twice"),
    (with_step(Step("jump", ("new",), "moon", CLERK, "Jump")), "step 'jump' names unknown state 'moon'"),
    (with_step(Step("leap", ("mars",), "done", CLERK, "Leap")), "step 'leap' names unknown state 'mars'"),
    (with_step(Step("wave", ("open",), "done", frozenset(), "Wave")), "step 'wave' has no role that may take it"),
    (tiny(states=(*tiny().states, "limbo"), steps=(*tiny().steps, Step("escape", ("limbo",), "done", CLERK, "Out"))),
     "state 'limbo' is unreachable"),
    (tiny(states=(*tiny().states, "stuck"), steps=(*tiny().steps, Step("sink", ("open",), "stuck", CLERK, "Sink"))),
     "state 'stuck' is a dead end but not final"),
    (tiny(final=frozenset()), "state 'done' is a dead end but not final"),
    (tiny(deadlines=(DeadlineRule("gone", "k", "K", due=lambda c, on: on),)), "deadline 'k' names unknown state"),
    (tiny(deadlines=(DeadlineRule("open", "k", "K", due=lambda c, on: on, on_expiry="explode"),)),
     "deadline 'k' fires unknown trigger 'explode'"),
])
def test_validate_catches_design_mistakes(workflow, problem):
    with pytest.raises(ValueError, match=f"workflow '{NAME}':") as raised:
        workflow.validate()
    assert problem in str(raised.value)


def test_validate_reports_every_problem_at_once():
    broken = tiny(initial="nowhere", steps=(*tiny().steps, Step("start", ("x",), "done", frozenset(), "Bad")))
    with pytest.raises(ValueError) as raised:
        broken.validate()
    message = str(raised.value)
    for problem in ("initial state 'nowhere'", "declared twice", "unknown state 'x'", "has no role"):
        assert problem in message


def test_register_refuses_an_invalid_workflow():
    with pytest.raises(ValueError):
        register(tiny(name="engine-test-invalid", initial="nowhere"))
    assert "engine-test-invalid" not in engine._workflows


# --- checks and guards on a registered throwaway workflow ----------------------------------------

@pytest.fixture
def guarded():
    """Register a workflow whose 'finish' step has a guard returning whatever the test puts in ``answer``."""
    answer = {"value": True}
    gate = Guard(lambda case, ctx: answer["value"], "The gate is shut.")
    always = Guard(lambda case, ctx: True, "Never shown.")
    steps = tuple(dataclasses.replace(s, guards=(always, gate)) if s.trigger == "finish" else s for s in tiny().steps)
    register(tiny(steps=steps))
    yield answer
    engine._workflows.pop(NAME, None)
    engine._machines.pop(NAME, None)


def _case(state: str = "open", version: int = 3):
    return SimpleNamespace(panel=NAME, state=state, version=version, id=None)


def _ctx(roles=CLERK, reason: str | None = None) -> Context:
    return Context(actor=None, roles=frozenset(roles), now=datetime(2026, 3, 2, 9, 0), occurred_on=date(2026, 3, 2),
                   reason=reason)


def test_guard_that_returns_true_lets_the_step_through(guarded):
    assert check(_case(), "finish", _ctx()).trigger == "finish"
    [finish] = [a for a in available_steps(_case(), _ctx()) if a.step.trigger == "finish"]
    assert finish.is_possible and finish.blocked_by == ()


@pytest.mark.parametrize("answer", [False, None, 1, "yes", [True], object()])
def test_guards_must_return_true_itself(guarded, answer):
    """A guard that returns a truthy non-bool (a count, a row, a string) has a bug; it blocks, never allows."""
    guarded["value"] = answer
    with pytest.raises(Blocked) as raised:
        check(_case(), "finish", _ctx())
    assert raised.value.reasons == ["The gate is shut."]
    [finish] = [a for a in available_steps(_case(), _ctx()) if a.step.trigger == "finish"]
    assert not finish.is_possible and finish.blocked_by == ("The gate is shut.",)


def test_check_refuses_in_order(guarded):
    with pytest.raises(StaleVersion) as raised:
        check(_case(version=3), "finish", _ctx(), expected_version=2)
    assert raised.value.status == 409 and raised.value.current == 3
    with pytest.raises(NotAllowed, match="not an event"):
        check(_case(), "teleport", _ctx())
    with pytest.raises(NotAllowed, match="not possible while the case is new"):
        check(_case(state="new"), "finish", _ctx())
    with pytest.raises(NotAllowed, match="Your role"):
        check(_case(), "finish", _ctx(roles={"visitor"}))
    with pytest.raises(Invalid) as invalid:
        check(_case(), "park", _ctx(reason="   "))
    assert invalid.value.errors == {"reason": "Give the reason for this decision"} and invalid.value.status == 422
    assert check(_case(), "park", _ctx(reason="Waiting for the report")).dest == "parked"


def test_available_steps_follow_state_and_role(guarded):
    assert [a.step.trigger for a in available_steps(_case(), _ctx())] == ["park", "finish"]
    assert [a.step.trigger for a in available_steps(_case(state="parked"), _ctx())] == ["resume"]
    assert available_steps(_case(), _ctx(roles={"visitor"})) == []
    assert available_steps(_case(state="done"), _ctx()) == []


def test_one_shared_machine_per_workflow(guarded):
    available_steps(_case(), _ctx())
    machine = engine._machines[NAME]
    assert machine.models == []  # cases are passed to the shared machine per call, never attached to it
    assert set(machine.events) == {"start", "park", "resume", "finish"}
    register(engine._workflows[NAME])  # idempotent
    assert set(engine._machines[NAME].events) == {"start", "park", "resume", "finish"}


# --- the scheduler lease ------------------------------------------------------------------------------

@pytest.mark.parametrize("now, seconds, expected", [
    (datetime(2026, 3, 1, 10, 7, 31, 500000), 300, datetime(2026, 3, 1, 10, 5)),
    (datetime(2026, 3, 1, 10, 5), 300, datetime(2026, 3, 1, 10, 5)),                     # on the boundary
    (datetime(2026, 3, 1, 10, 4, 59, 999999), 300, datetime(2026, 3, 1, 10, 0)),         # just before it
    (datetime(2026, 3, 1, 10, 59, 59), 3600, datetime(2026, 3, 1, 10, 0)),
    (datetime(2026, 3, 1, 23, 59, 59), 86400, datetime(2026, 3, 1)),
    (datetime(2000, 1, 1, 0, 0, 1), 300, datetime(2000, 1, 1)),
    (datetime(1999, 12, 31, 23, 59), 300, datetime(1999, 12, 31, 23, 55)),              # floors, not truncates
    (datetime(2026, 3, 1, 10, 7, 31), 1, datetime(2026, 3, 1, 10, 7, 31)),
])
def test_window_start_floors_to_the_window(now, seconds, expected):
    assert window_start(now, seconds) == expected


def test_lease_runs_each_window_once(app, db):
    job = "engine-test-sweep"
    first = run_once(job, 300, datetime(2026, 3, 1, 10, 6))
    assert first == "0 deadlines handled"
    assert run_once(job, 300, datetime(2026, 3, 1, 10, 9, 59)).startswith("skipped")
    assert run_once(job, 300, datetime(2026, 3, 1, 10, 5)).startswith("skipped")
    assert run_once(job, 300, datetime(2026, 3, 1, 10, 10)) == "0 deadlines handled"      # a new window runs
    assert run_once("engine-test-other-job", 300, datetime(2026, 3, 1, 10, 11)) == "0 deadlines handled"

    runs = db.session.scalars(select(JobRun).where(JobRun.job == job).order_by(JobRun.window_start)).all()
    assert [r.window_start for r in runs] == [datetime(2026, 3, 1, 10, 5), datetime(2026, 3, 1, 10, 10)]
    assert all(r.finished_at is not None and r.outcome == "0 deadlines handled" for r in runs)
    assert runs[0].started_at == datetime(2026, 3, 1, 10, 6)
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 3


def test_lease_survives_a_second_session(app, db):
    """Another process's lease (a row committed elsewhere) makes this process skip the window."""
    from sqlalchemy.orm import Session
    with Session(db.engine) as other:
        other.add(JobRun(job="engine-test-shared", window_start=datetime(2026, 3, 1, 10, 0),
                         started_at=datetime(2026, 3, 1, 10, 0, 1)))
        other.commit()
    assert run_once("engine-test-shared", 300, datetime(2026, 3, 1, 10, 3)).startswith("skipped")
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 1

"""Every panel's workflow rules as tables: which role may take which step from which state, and the sentence each
guard gives when it blocks. The tables are written out here, apart from the workflows, so a change to a rule is a
change to this file too."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.cases.services import take_step
from app.core.timeutil import today, utcnow
from workflows import SYSTEM, Blocked, Context, available_steps

REFERRER, COORDINATOR, MEMBER = "referrer", "coordinator", "panel_member"
ROLES = (REFERRER, COORDINATOR, MEMBER, SYSTEM)
BOTH, CHAIR = {REFERRER, COORDINATOR}, {COORDINATOR}
MARAC_ACTIVE = {"received", "returned", "accepted", "actions_only", "listed", "research", "heard"}

#: panel -> trigger -> (the states it is taken from, the roles that may take it)
TABLES = {
    "marac": {
        "submit": ({"draft"}, BOTH),
        "resubmit": ({"returned"}, BOTH),
        "accept": ({"received"}, CHAIR),
        "send_back": ({"received"}, CHAIR),
        "decline": ({"received"}, CHAIR),
        "triage_actions_only": ({"accepted"}, CHAIR),
        "list": ({"accepted"}, CHAIR),
        "circulate": ({"listed"}, CHAIR),
        "defer": ({"listed", "research"}, CHAIR),
        "hear": ({"listed", "research"}, CHAIR),
        "close": ({"heard", "actions_only"}, CHAIR),
        "expire": ({"closed"}, {SYSTEM}),
        "transfer": (MARAC_ACTIVE, CHAIR),
    },
    "asb_case_review": {
        "submit": ({"draft"}, BOTH),
        "acknowledge": ({"received"}, CHAIR),
        "gather": ({"acknowledged"}, CHAIR),
        "decide_met": ({"gathering"}, CHAIR),
        "decide_not_met": ({"gathering"}, CHAIR),
        "request_decision_review": ({"threshold_not_met"}, CHAIR),
        "overturn_decision": ({"decision_review"}, CHAIR),
        "confirm_decision": ({"decision_review"}, CHAIR),
        "close_not_met": ({"threshold_not_met"}, CHAIR),
        "list": ({"threshold_met"}, CHAIR),
        "review": ({"listed"}, CHAIR),
        "agree_outcome": ({"reviewed"}, CHAIR),
        "notify": ({"outcome_agreed"}, CHAIR),
        "escalate": ({"monitoring"}, CHAIR),
        "uphold_escalation": ({"escalated"}, CHAIR),
        "dismiss_escalation": ({"escalated"}, CHAIR),
        "close": ({"monitoring"}, CHAIR),
    },
}


@pytest.mark.parametrize("panel", sorted(TABLES))
def test_the_table_names_every_step_of_the_workflow(app, panel):
    workflow = app.extensions["panels"][panel].workflow
    assert set(TABLES[panel]) == {s.trigger for s in workflow.steps}


@pytest.mark.parametrize("panel", sorted(TABLES))
def test_each_role_may_take_exactly_the_steps_of_the_table_from_each_state(app, panel):
    """step x state x role -> offered or not (guards aside: a blocked step is offered, with its sentence)."""
    registered = app.extensions["panels"][panel]
    wrong = []
    for state in registered.workflow.states:
        case = registered.case_model(panel=panel, state=state, version=1, referred_on=today(), is_repeat=False)
        for role in ROLES:
            ctx = Context(actor=None, roles=frozenset({role}), now=utcnow(), occurred_on=today())
            offered = {a.step.trigger for a in available_steps(case, ctx)}
            expected = {t for t, (sources, roles) in TABLES[panel].items() if state in sources and role in roles}
            if offered != expected:
                wrong.append(f"{state} as {role}: offered {sorted(offered)}, the table says {sorted(expected)}")
    assert not wrong, "\n".join(wrong)


AN_ACTION = {"actions": [{"owner_agency": "POLICE", "text": "Fit a panic alarm", "due_on": "2999-01-01"}]}
#: (panel, the state the case is in, what the test does first, trigger, the step's data, the guard's sentence)
GUARDS = [
    ("marac", "accepted", None, "triage_actions_only", AN_ACTION,
     "This area's triage model sends every accepted case to a full MARAC."),
    ("marac", "listed", "meeting tomorrow", "hear", {},
     "The meeting this case is listed on has not taken place yet."),
    ("marac", "actions_only", None, "close", {},
     "Every action must be complete or marked not done before the case can be closed."),
    ("asb_case_review", "listed", "meeting tomorrow", "review", {"applicant_attended": False},
     "The meeting this case is listed on has not taken place yet."),
    ("asb_case_review", "monitoring", "told the outcome long ago", "escalate", {},
     "The applicant can ask for an escalation only within the set number of days of being told the outcome."),
]


@pytest.mark.parametrize("panel, state, setup, trigger, data, sentence", GUARDS)
def test_a_guard_blocks_with_its_sentence(app, db, make_case, set_setting, panel, state, setup, trigger, data,
                                          sentence):
    from app.meetings.agenda import create_meeting
    if setup == "meeting tomorrow":
        coordinator = make_case.person("coordinator", panel)
        starts = utcnow().replace(hour=10, minute=0) + timedelta(days=1)
        make_case.lists_on(create_meeting(panel, starts, starts - timedelta(days=1), 60, "Room 1", coordinator))
        db.session.commit()
    case = make_case(panel, state, referred_on=today() - timedelta(days=60))
    if setup == "told the outcome long ago":
        case.notified_on = today() - timedelta(days=50)
        db.session.commit()
    if trigger == "triage_actions_only":
        set_setting("marac.triage_model", "full_marac")
    with pytest.raises(Blocked) as refused:
        take_step(make_case.person("coordinator", panel), case, trigger, version=case.version,
                  reason="A reason", data=data)
    assert refused.value.reasons == [sentence]

"""The MARAC workflow through the real services: every step, every refusal, history, audit, closure and expiry.

Rows read: starting state, trigger, who acts, what they send, where the case ends up.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from app.actions.models import Action
from app.cases.services import context_for, take_step
from app.core import settings
from app.core.access import PANEL_MEMBER, case_roles
from app.core.audit import AuditEvent
from app.core.models import Case
from app.core.timeutil import add_months, today
from app.meetings.agenda import agenda_cases
from panels.marac.workflow import ACTIVE, MARAC
from tests.panels.marac.conftest import an_action, footprint
from workflows import Blocked, Invalid, NotAllowed, StaleVersion, available_steps, history
from workflows.deadlines import open_for, sweep_due
from workflows.models import CaseTransition, Deadline

REASON = "Recorded for the test"


def footprint_uncommitted(db, case_id: int) -> dict:
    """Counts as the open transaction sees them (no expiry, so nothing is reloaded or committed)."""
    return {
        "transitions": db.session.scalar(select(func.count()).select_from(CaseTransition)
                                         .where(CaseTransition.case_id == case_id)),
        "transition_audits": db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.case_id == case_id, AuditEvent.action == "case.transition")),
    }


def coordinator_context(area, case):
    return context_for(area.coordinator, case)


# --- every successful move -------------------------------------------------------------------------------------

#: (start, trigger, actor, reason, data (None: what the walker sends), end)
MOVES = [
    ("received", "accept", "coordinator", None, None, "accepted"),
    ("received", "send_back", "coordinator", "Please add the DASH answers for questions 10 to 12", None, "returned"),
    ("received", "decline", "coordinator", "Standard risk: signposted to the outreach service", None, "declined"),
    ("returned", "resubmit", "practitioner", "DASH completed with the victim", None, "received"),
    ("returned", "resubmit", "coordinator", "Referrer sent the missing details by phone", None, "received"),
    ("accepted", "list", "coordinator", None, None, "listed"),
    ("listed", "circulate", "coordinator", None, None, "research"),
    ("listed", "defer", "coordinator", "The referring officer cannot attend", None, "accepted"),
    ("research", "defer", "coordinator", "No briefed representative available", None, "accepted"),
    ("listed", "hear", "coordinator", None, {"actions": []}, "heard"),
    ("research", "hear", "coordinator", None, "one action", "heard"),
    ("heard", "close", "coordinator", None, None, "closed"),
    ("actions_only", "close", "coordinator", None, None, "closed"),
    *[(state, "transfer", "coordinator", "The victim has moved to another county", None, "transferred")
      for state in ACTIVE],
]


def _data(value):
    if value == "one action":
        return {"actions": [an_action(today() + timedelta(days=14))]}
    return value


@pytest.mark.parametrize("start, trigger, actor, reason, data, end", MOVES,
                         ids=[f"{m[0]}-{m[1]}-by-{m[2]}" for m in MOVES])
def test_each_step_moves_the_case_and_writes_one_history_row_and_one_audit_row(
        area, db, start, trigger, actor, reason, data, end):
    case = area.walk(start)
    before = footprint(db, case.id)
    user = getattr(area, actor)

    record = area.step(case, trigger, user, reason=reason, data=_data(data))

    after = footprint(db, case.id)
    assert after["state"] == end
    assert after["version"] == before["version"] + 1
    assert after["transitions"] == before["transitions"] + 1
    assert after["transition_audits"] == before["transition_audits"] + 1
    row = db.session.scalars(select(CaseTransition).where(CaseTransition.case_id == case.id)
                             .order_by(CaseTransition.id.desc())).first()
    assert row.id == record.id
    assert (row.from_state, row.to_state, row.trigger) == (start, end, trigger)
    assert (row.actor_id, row.agency_id) == (user.id, user.agency_id)
    assert row.occurred_on == today()
    assert row.reason == reason
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                        AuditEvent.action == "case.transition")
                               .order_by(AuditEvent.id.desc())).first()
    assert audit.detail == f"{trigger}:{start}->{end}"
    assert audit.user_id == user.id


def test_triage_actions_only_moves_an_accepted_case_when_the_area_allows_it(area, db):
    case = area.walk("accepted")
    with area.triage_allowed():
        area.step(case, "triage_actions_only", data={"actions": [an_action(today() + timedelta(days=3))]})
    assert footprint(db, case.id)["state"] == "actions_only"
    assert [(t.from_state, t.to_state, t.trigger) for t in history(case.id)][-1] == \
        ("accepted", "actions_only", "triage_actions_only")
    (action,) = db.session.scalars(select(Action).where(Action.case_id == case.id)).all()
    assert (action.status, action.meeting_id, action.owner_agency.code) == ("open", None, "POLICE")


def test_submit_is_the_first_move_of_every_referral(area, db):
    case = area.refer()
    (row,) = history(case.id)
    assert (row.from_state, row.to_state, row.trigger) == ("draft", "received", "submit")
    assert row.actor_id == area.practitioner.id
    assert row.occurred_on == case.referred_on
    assert [a.detail for a in db.session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "case.transition"))] == ["submit:draft->received"]


def test_expire_is_taken_by_the_system_alone_and_ends_the_case(area, db):
    case = area.walk("closed")
    record = area.expire(case)
    assert footprint(db, case.id)["state"] == "expired"
    assert (record.from_state, record.to_state, record.actor_id) == ("closed", "expired", None)


def test_the_whole_journey_is_recorded_in_order(area, db):
    case = area.walk("research")
    for trigger in ("hear", "close"):
        area.step(case, trigger)
    area.expire(case)
    assert [(t.trigger, t.from_state, t.to_state) for t in history(case.id)] == [
        ("submit", "draft", "received"), ("accept", "received", "accepted"), ("list", "accepted", "listed"),
        ("circulate", "listed", "research"), ("hear", "research", "heard"), ("close", "heard", "closed"),
        ("expire", "closed", "expired")]


def test_the_history_row_and_audit_row_join_the_step_s_own_transaction(area, db):
    case = area.walk("received")
    before = footprint(db, case.id)

    take_step(area.coordinator, case, "accept", version=case.version)
    db.session.flush()
    in_transaction = footprint_uncommitted(db, case.id)
    assert (in_transaction["transitions"], in_transaction["transition_audits"]) == \
        (before["transitions"] + 1, before["transition_audits"] + 1)
    db.session.rollback()
    assert footprint(db, case.id) == before  # rolled back together: no history or audit without the move

    area.step(case, "accept")
    after = footprint(db, case.id)
    assert (after["state"], after["transitions"], after["transition_audits"]) == \
        ("accepted", before["transitions"] + 1, before["transition_audits"] + 1)


def test_listing_puts_the_case_on_the_meeting_agenda_and_deferral_takes_it_off(area, db):
    case = area.walk("listed")
    assert footprint(db, case.id)["agenda_items"] == 1
    area.step(case, "defer", reason="The police representative is on leave")
    assert footprint(db, case.id)["agenda_items"] == 0
    later = area.new_meeting(days_from_today=14)
    area.step(case, "list", data={"meeting_id": later.id})
    assert footprint(db, case.id)["state"] == "listed"


def test_hearing_records_each_agreed_action_against_the_meeting(area, db):
    case = area.walk("research")
    due = today() + timedelta(days=10)
    area.step(case, "hear", data={"actions": [an_action(due), an_action(due, agency="HEALTH", text="GP review")]})
    actions = db.session.scalars(select(Action).where(Action.case_id == case.id).order_by(Action.id)).all()
    assert [(a.owner_agency.code, a.text, a.due_on, a.status, a.meeting_id) for a in actions] == [
        ("POLICE", "Fit a panic alarm at the victim's home", due, "open", area.meeting.id),
        ("HEALTH", "GP review", due, "open", area.meeting.id)]


# --- refusals: nothing changes ------------------------------------------------------------------------------------

def _refused(area, db, case, exc_type, trigger, user=None, **kwargs):
    """Try a step that must be refused; commit anyway, and prove the database did not move."""
    before = footprint(db, case.id)
    case = db.session.get(Case, case.id)
    with pytest.raises(exc_type) as raised:
        area.step(case, trigger, user, **kwargs)
    db.session.commit()  # even a careless caller that commits after a refusal writes nothing
    assert footprint(db, case.id) == before
    return raised.value


WRONG_STATE = [
    ("received", "submit"), ("received", "circulate"), ("received", "hear"), ("received", "close"),
    ("received", "resubmit"), ("accepted", "accept"), ("accepted", "hear"), ("accepted", "close"),
    ("accepted", "circulate"), ("listed", "list"), ("listed", "accept"), ("research", "circulate"),
    ("heard", "list"), ("heard", "defer"), ("returned", "accept"), ("actions_only", "hear"),
    ("closed", "close"), ("closed", "transfer"), ("declined", "accept"), ("declined", "resubmit"),
    ("transferred", "accept"), ("expired", "list"), ("expired", "transfer"),
]


@pytest.mark.parametrize("start, trigger", WRONG_STATE, ids=[f"{s}-{t}" for s, t in WRONG_STATE])
def test_a_step_from_the_wrong_state_is_not_allowed(area, db, start, trigger):
    case = area.walk(start)
    error = _refused(area, db, case, NotAllowed, trigger, reason=REASON,
                     data={"meeting_id": area.meeting.id, "actions": []})
    assert "is not possible while the case is" in str(error)


def test_an_unknown_event_is_not_allowed(area, db):
    case = area.walk("received")
    error = _refused(area, db, case, NotAllowed, "reopen")
    assert "'reopen' is not an event of the marac workflow" in str(error)


#: (start, trigger, who tries it)
WRONG_ROLE = [
    ("received", "accept", "practitioner"),
    ("received", "send_back", "practitioner"),
    ("received", "decline", "practitioner"),
    ("received", "transfer", "practitioner"),
    ("accepted", "list", "practitioner"),
    ("listed", "circulate", "member"),
    ("research", "hear", "member"),
    ("research", "defer", "member"),
    ("heard", "close", "member"),
    ("heard", "close", "practitioner"),
    ("closed", "expire", "coordinator"),
    ("returned", "resubmit", "other_agency_practitioner"),
    ("received", "accept", "other_panel_coordinator"),
]


@pytest.mark.parametrize("start, trigger, who", WRONG_ROLE, ids=[f"{w}-{t}" for _, t, w in WRONG_ROLE])
def test_a_step_by_the_wrong_role_is_not_allowed(area, db, make_user, start, trigger, who):
    users = {"other_agency_practitioner": lambda: make_user("practitioner", agency="HOUSING"),
             "other_panel_coordinator": lambda: make_user("coordinator", agency="COUNCIL", panels=("channel",))}
    user = users[who]() if who in users else getattr(area, who)
    case = area.walk(start)
    error = _refused(area, db, case, NotAllowed, trigger, user, reason=REASON)
    assert "Your role on this case cannot" in str(error)


def test_the_panel_member_on_the_agenda_does_hold_a_role_on_the_case(area, db):
    """Guards the row above: the member is refused for their role, not for being a stranger to the case."""
    case = area.walk("heard")
    assert case_roles(area.member, case) == {PANEL_MEMBER}


NEEDS_REASON = [("received", "send_back"), ("received", "decline"), ("returned", "resubmit"), ("listed", "defer"),
                ("research", "defer"), ("accepted", "transfer"), ("heard", "transfer")]


@pytest.mark.parametrize("reason", [None, "", "   \n\t"], ids=["none", "empty", "blank"])
@pytest.mark.parametrize("start, trigger", NEEDS_REASON, ids=[f"{s}-{t}" for s, t in NEEDS_REASON])
def test_a_step_that_needs_a_reason_is_invalid_without_one(area, db, start, trigger, reason):
    assert MARAC.step(trigger).needs_reason
    case = area.walk(start)
    error = _refused(area, db, case, Invalid, trigger, reason=reason)
    assert error.errors == {"reason": "Give the reason for this decision"}


# --- guards block with their sentence -----------------------------------------------------------------------------

def test_hear_is_blocked_until_the_meeting_has_taken_place(area, db):
    case = area.walk("accepted")
    next_week = area.new_meeting(days_from_today=7)
    area.step(case, "list", data={"meeting_id": next_week.id})
    error = _refused(area, db, case, Blocked, "hear", data={"actions": []})
    assert error.reasons == ["The meeting this case is listed on has not taken place yet."]
    hear = next(a for a in available_steps(case, coordinator_context(area, case)) if a.step.trigger == "hear")
    assert hear.blocked_by == ("The meeting this case is listed on has not taken place yet.",)


def test_close_is_blocked_while_an_action_is_open_then_allowed_once_settled(area, db):
    case = area.walk("research")
    area.step(case, "hear", data={"actions": [an_action(today() + timedelta(days=5))]})
    error = _refused(area, db, case, Blocked, "close")
    assert error.reasons == ["Every action must be complete or marked not done before the case can be closed."]

    area.settle_actions(case, "not_done")
    area.step(case, "close")
    assert footprint(db, case.id)["state"] == "closed"


def test_the_triage_setting_blocks_actions_only_unless_the_area_allows_it(area, db, app):
    assert settings.value("marac.triage_model") == "full_marac"  # the default
    case = area.walk("accepted")
    error = _refused(area, db, case, Blocked, "triage_actions_only",
                     data={"actions": [an_action(today() + timedelta(days=3))]})
    assert error.reasons == ["This area's triage model sends every accepted case to a full MARAC."]


def test_triage_actions_only_needs_at_least_one_action(area, db):
    case = area.walk("accepted")
    with area.triage_allowed():
        error = _refused(area, db, case, Invalid, "triage_actions_only", data={"actions": []})
    assert error.errors == {"actions": "Record at least one action"}


# --- listing on a meeting ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("meeting, message", [
    ("other panel", "Choose a meeting of this panel"),
    ("yesterday", "Choose a meeting that has not yet taken place"),
    ("missing", "Choose the meeting to list the case on"),
    ("unknown id", "Choose a meeting of this panel"),
    ("as text", "Choose the meeting to list the case on"),
    ("true", "Choose the meeting to list the case on"),
    ("zero", "Choose the meeting to list the case on"),
    ("too big", "Choose the meeting to list the case on"),
])
def test_listing_needs_a_future_meeting_of_this_panel(area, db, meeting, message):
    case = area.walk("accepted")
    choices = {
        "other panel": lambda: {"meeting_id": area.new_meeting(days_from_today=3, panel="asb_case_review").id},
        "yesterday": lambda: {"meeting_id": area.new_meeting(days_from_today=-1).id},
        "missing": lambda: {},
        "unknown id": lambda: {"meeting_id": area.meeting.id + 1000},
        "as text": lambda: {"meeting_id": str(area.meeting.id)},
        "true": lambda: {"meeting_id": True},
        "zero": lambda: {"meeting_id": 0},
        "too big": lambda: {"meeting_id": 2**31},
    }
    error = _refused(area, db, case, Invalid, "list", data=choices[meeting]())
    assert error.errors == {"meeting_id": message}


def test_a_coordinator_may_record_a_listing_made_before_a_meeting_that_has_since_happened(area, db):
    case = area.walk("accepted", referred_on=today() - timedelta(days=30))
    last_week = area.new_meeting(days_from_today=-7)
    area.step(case, "list", data={"meeting_id": last_week.id}, occurred_on=today() - timedelta(days=20))
    area.step(case, "hear", data={"actions": []}, occurred_on=today() - timedelta(days=7))
    assert [t.occurred_on for t in history(case.id)][-2:] == [today() - timedelta(days=20),
                                                              today() - timedelta(days=7)]


# --- the hearing's actions ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("actions, errors", [
    ([an_action("31/12/2030")], {"actions.0.due_on": "Enter the due date as YYYY-MM-DD"}),
    ([an_action("2030-02-30")], {"actions.0.due_on": "Enter the due date as YYYY-MM-DD"}),
    ([{"owner_agency": "POLICE", "text": "Safety plan"}], {"actions.0.due_on": "Enter the due date as YYYY-MM-DD"}),
    ([an_action("2000-01-01")], {"actions.0.due_on": "The due date must be on or after the meeting"}),
    ([an_action("2030-01-01", agency="NOBODY")], {"actions.0.owner_agency": "Choose the agency that owns this action"}),
    ([an_action("2030-01-01", text="  ")], {"actions.0.text": "Enter the action"}),
    ([an_action("2030-01-01", text="x" * 2001)], {"actions.0.text": "The action must be 2000 characters or fewer"}),
    ([an_action("2030-01-01"), an_action("soon")], {"actions.1.due_on": "Enter the due date as YYYY-MM-DD"}),
    (["Refer to MASH"], {"actions.0": "Each action needs an owning agency, the action and a due date"}),
    ({"owner_agency": "POLICE"}, {"actions": "Give a list of at most 30 actions"}),
    ([an_action("2030-01-01")] * 31, {"actions": "Give a list of at most 30 actions"}),
], ids=["due-not-iso", "due-impossible", "due-missing", "due-before-meeting", "unknown-agency", "blank-text",
        "text-too-long", "second-row-bad", "not-an-object", "not-a-list", "too-many"])
def test_hear_with_invalid_actions_gives_field_errors_and_records_no_action(area, db, actions, errors):
    case = area.walk("research")
    error = _refused(area, db, case, Invalid, "hear", data={"actions": actions})
    assert error.errors == errors


def test_hear_reports_every_bad_field_of_an_action_at_once(area, db):
    case = area.walk("research")
    error = _refused(area, db, case, Invalid, "hear",
                     data={"actions": [{"owner_agency": "NOBODY", "text": "", "due_on": "tomorrow"}]})
    assert set(error.errors) == {"actions.0.owner_agency", "actions.0.text", "actions.0.due_on"}


# --- versions and dates -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("offset", [-1, 1], ids=["older", "newer"])
def test_a_stale_expected_version_is_refused_and_changes_nothing(area, db, offset):
    case = area.walk("received")
    error = _refused(area, db, case, StaleVersion, "accept", version=case.version + offset)
    assert error.current == case.version
    assert error.status == 409


def test_a_coordinator_may_record_a_step_on_an_earlier_date(area, db):
    referred_on = today() - timedelta(days=10)
    case = area.walk("received", referred_on=referred_on)
    area.step(case, "accept", occurred_on=referred_on + timedelta(days=2))
    row = history(case.id)[-1]
    assert row.occurred_on == referred_on + timedelta(days=2)
    assert row.recorded_at.date() == today()


def test_a_practitioner_may_not_record_a_step_on_an_earlier_date(area, db):
    case = area.walk("returned")
    error = _refused(area, db, case, Invalid, "resubmit", area.practitioner, reason="Added the DASH",
                     occurred_on=today() - timedelta(days=1))
    assert error.errors == {"occurred_on": "Only the panel's coordinator can record a step on an earlier date"}
    area.step(case, "resubmit", area.practitioner, reason="Added the DASH", occurred_on=today())
    assert footprint(db, case.id)["state"] == "received"


def test_a_step_dated_in_the_future_is_refused(area, db):
    case = area.walk("received")
    error = _refused(area, db, case, Invalid, "accept", occurred_on=today() + timedelta(days=1))
    assert error.errors == {"occurred_on": "The date it happened must be today or in the past"}


def test_a_step_dated_before_the_referral_is_refused(area, db):
    case = area.walk("received", referred_on=today() - timedelta(days=5))
    error = _refused(area, db, case, Invalid, "accept", occurred_on=today() - timedelta(days=6))
    assert error.errors == {"occurred_on": "The date it happened cannot be before the referral date"}


# --- closure, the repeat flag and its expiry ---------------------------------------------------------------------

def test_closing_sets_closed_on_and_opens_the_12_month_repeat_flag(area, db):
    case = area.walk("heard", referred_on=today() - timedelta(days=40))
    closed_on = today() - timedelta(days=3)
    area.step(case, "close", occurred_on=closed_on)
    assert footprint(db, case.id)["closed_on"] == closed_on
    ((label, deadline),) = open_for(case)
    assert label == "12-month repeat flag ends"
    assert (deadline.state, deadline.kind, deadline.due_on) == ("closed", "repeat_flag", add_months(closed_on, 12))


def test_the_sweep_leaves_the_flag_alone_until_its_day_has_passed(area, db):
    case = area.walk("closed")
    due_on = add_months(case.closed_on, 12)
    assert sweep_due(datetime.combine(due_on, time(23, 0))) == 0
    assert footprint(db, case.id)["state"] == "closed"


def test_the_scheduler_sweep_expires_the_case_13_months_after_closure(area, db):
    case = area.walk("closed")
    now = datetime.combine(add_months(case.closed_on, 13), time(2, 0))

    assert sweep_due(now) == 1

    assert footprint(db, case.id)["state"] == "expired"
    row = history(case.id)[-1]
    assert (row.trigger, row.from_state, row.to_state, row.actor_id) == ("expire", "closed", "expired", None)
    assert row.occurred_on == add_months(case.closed_on, 12)
    assert row.reason == "repeat_flag deadline passed"
    deadline = db.session.scalars(select(Deadline).where(Deadline.case_id == case.id)).one()
    assert deadline.expired_at == now and deadline.closed_at == now
    assert open_for(case) == []
    assert sweep_due(now + timedelta(days=1)) == 0  # nothing left to do


def test_transfer_closes_the_case_without_a_repeat_flag(area, db):
    case = area.walk("listed")
    area.step(case, "transfer", reason="Victim rehoused in another county")
    after = footprint(db, case.id)
    assert (after["state"], after["closed_on"], after["deadlines"]) == ("transferred", today(), 0)


def test_a_transferred_case_leaves_the_agenda_of_a_meeting_yet_to_happen(area, db):
    case = area.walk("accepted")
    next_week = area.new_meeting(days_from_today=7)
    area.step(case, "list", data={"meeting_id": next_week.id})
    assert [c.id for c in agenda_cases(next_week)] == [case.id]
    area.step(case, "transfer", reason="Victim rehoused in another county")
    assert agenda_cases(next_week) == []


def test_a_heard_case_that_is_transferred_stays_on_the_agenda_it_was_heard_at(area, db):
    case = area.walk("heard")
    area.step(case, "transfer", reason="Victim rehoused in another county")
    assert [c.id for c in agenda_cases(area.meeting)] == [case.id]

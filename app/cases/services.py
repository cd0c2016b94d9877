"""Case services shared by the pages and the API: a referral, taking a workflow step, research, describing a case."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from app.cases import sections
from app.cases.models import AgencyResearch
from app.cases.schema import referral_schema
from app.cases.settings import backdating_days, referral_backdating_days
from app.core import audit, settings
from app.core.access import COORDINATOR, PANEL_MEMBER, case_roles, sees_every_agency, sees_repeat_status
from app.core.extensions import db
from app.core.timeutil import today, utcnow
from app.core.validation import field_errors
from workflows import Context, Invalid, available_steps, fire, history


def not_future(value: str | None, field: str, today: date) -> dict[str, str]:
    """An error for the field if the ISO date is after today."""
    return {field: "must be today or in the past"} if value and date.fromisoformat(value) > today else {}


def refer(panels: dict, body, user, now: datetime | None = None):
    """Validate a referral (the API's shape, which the pages build too) and make it; the caller commits."""
    now = now or utcnow()
    if not isinstance(body, dict):
        raise Invalid({"body": "Send a JSON object with Content-Type: application/json"})
    errors = field_errors(referral_schema(panels), body)
    if not errors:
        errors.update(not_future(body["referred_on"], "referred_on", today(now)))
        errors.update(not_future(body["subject"]["date_of_birth"], "subject.date_of_birth", today(now)))
        errors.update(panels[body["panel"]].intake.check(body["details"], date.fromisoformat(body["referred_on"]),
                                                         today(now)))
        errors.update(_backdating_problem(body, today(now)))
    if errors:
        raise Invalid(errors)
    version = settings.rules_version()  # read before the intake's own checks, in the same transaction
    case = panels[body["panel"]].intake.make(body, user, now)
    case.rules_version = version
    case.backdating_reason = (body.get("backdating_reason") or "").strip() or None
    audit.record("case.create", case_id=case.id, user=user)
    return case


def _backdating_problem(body: dict, on: date) -> dict[str, str]:
    """A referral dated further back than the setting allows needs a reason (shown to the coordinator)."""
    limit = referral_backdating_days()
    if date.fromisoformat(body["referred_on"]) >= on - timedelta(days=limit):
        return {}
    if (body.get("backdating_reason") or "").strip():
        return {}
    return {"backdating_reason": f"Say why the referral is dated more than {limit} days ago"}


def context_for(user, case, *, occurred_on: date | None = None, reason: str | None = None,
                data: dict | None = None, now: datetime | None = None) -> Context:
    """Build the engine context, checking the date the step is said to have happened."""
    now = now or utcnow()
    roles = case_roles(user, case)
    local_today = today(now)
    on = occurred_on or local_today
    if on > local_today:
        raise Invalid({"occurred_on": "The date it happened must be today or in the past"})
    if on < case.referred_on:
        raise Invalid({"occurred_on": "The date it happened cannot be before the referral date"})
    if on != local_today and COORDINATOR not in roles:
        raise Invalid({"occurred_on": "Only the panel's coordinator can record a step on an earlier date"})
    limit = backdating_days()
    if limit is not None and on < local_today - timedelta(days=limit):
        raise Invalid({"occurred_on": f"A step can be dated at most {limit} days back (this area's setting)"})
    return Context(actor=user, roles=roles, now=now, occurred_on=on, reason=reason, data=data or {})


def take_step(user, case, trigger: str, *, version: int | None, occurred_on: date | None = None,
              reason: str | None = None, data: dict | None = None, now: datetime | None = None):
    """Fire a workflow event for a person; the caller commits."""
    ctx = context_for(user, case, occurred_on=occurred_on, reason=reason, data=data, now=now)
    return fire(case, trigger, ctx, expected_version=version)


def steps_for(user, case):
    return available_steps(case, context_for(user, case))


RESEARCH_MAX = 10_000


def may_add_research(user, case, research_states: tuple[str, ...]) -> bool:
    """Agency representatives on the case (members and the coordinator) add research while the panel allows it."""
    return case.state in research_states and bool(case_roles(user, case) & {COORDINATOR, PANEL_MEMBER})


def research_shown(user, case) -> list[AgencyResearch]:
    """The research the user sees: every agency's for the panel's coordinator, else their own agency's only."""
    if sees_every_agency(user, case.panel):
        return list(case.research)
    return [r for r in case.research if r.agency_id == user.agency_id]


def add_research(user, case, text: str) -> AgencyResearch:
    """Record what the user's agency found; the caller has checked may_add_research and commits."""
    research = AgencyResearch(case_id=case.id, agency_id=user.agency_id, author_id=user.id)
    research.text = text.strip()
    db.session.add(research)
    audit.record("case.research_add", case_id=case.id, user=user)
    return research


def summary(user, case) -> dict:
    """The shared fields of a case, for lists and the API (whether it repeats an earlier case: coordinators only)."""
    shared = {"id": case.id, "reference": case.reference, "panel": case.panel, "state": case.state,
              "version": case.version, "referred_on": case.referred_on.isoformat(),
              "closed_on": case.closed_on.isoformat() if case.closed_on else None, "priority": case.priority}
    if sees_repeat_status(user, case.panel):
        shared.update(is_repeat=case.is_repeat, repeat_of=case.repeat_of_id)
    return shared


def detail(user, case, describe) -> dict:
    """Everything about a case the user may see, with the events they may fire now."""
    subject = case.subject
    return {
        **summary(user, case),
        "source_agency": case.source_agency.code,
        "neighbourhood": case.neighbourhood,
        "subject": {"forename": subject.forename, "surname": subject.surname,
                    "date_of_birth": subject.date_of_birth, "address": subject.address},
        "details": describe(case),
        **sections.described(user, case),
        "history": [{"event": t.trigger, "from": t.from_state, "to": t.to_state,
                     "occurred_on": t.occurred_on.isoformat(), "recorded_at": t.recorded_at.isoformat()}
                    for t in history(case.id)],
        "events": [{"event": a.step.trigger, "label": a.step.label, "needs_reason": a.step.needs_reason,
                    "possible": a.is_possible, "blocked_by": list(a.blocked_by)}
                   for a in steps_for(user, case)],
    }

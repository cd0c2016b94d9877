"""MARAC services: intake of a referral and repeat detection."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from panels.kit import (
    REPEAT,
    Case,
    Context,
    Intake,
    Subject,
    add_months,
    db,
    fire,
    is_person,
    new_subject,
    not_future,
    same_person,
)
from panels.marac import dash, settings
from panels.marac.models import MaracReferral
from panels.marac.schema import DETAILS


def check_details(details: dict, referred_on: date, today: date) -> dict[str, str]:
    """What the schema cannot say: the perpetrator's date of birth is not in the future."""
    perpetrator = details.get("perpetrator") or {}
    return not_future(perpetrator.get("date_of_birth"), "details.perpetrator.date_of_birth", today)


def previous_referral(subject: Subject, referred_on: date) -> Case | None:
    """Return the same victim's latest MARAC referral dated on or before this one, confirmed by decryption."""
    forename, surname, dob = subject.forename, subject.surname, subject.date_of_birth
    if not dob:
        return None
    # Only the blind index narrows the query, so every database drives it from that index (a victim has a
    # handful of referrals); given the panel and date as well, SQLite scans the whole panel by date instead.
    # The repeat index is the panel's own (not search's, not cross-panel matching's).
    same_index = same_person(REPEAT, forename, surname, dob)
    candidates = db.session.scalars(select(Case).where(Case.subject_id.in_(same_index))
                                    .order_by(Case.referred_on.desc(), Case.id.desc()))
    return next((c for c in candidates if c.panel == "marac" and c.state != "draft" and c.referred_on <= referred_on
                 and is_person(c.subject, forename, surname, dob)), None)


def is_within_repeat_window(previous_on: date, referred_on: date) -> bool:
    """A repeat is a referral within the 12 calendar months after the victim's latest one."""
    months = settings.repeat_months()
    if (referred_on.year - 1) * 12 + referred_on.month - 1 < months:
        # The window would open before 1 January of year 1, which no date can hold (subtracting the months
        # raises): it reaches back to the first date there is, so every earlier referral is within it.
        return True
    return previous_on >= add_months(referred_on, -months)


def intake(payload: dict, actor, now: datetime) -> MaracReferral:
    """Create a MARAC referral from a validated payload and submit it (the caller commits)."""
    details = payload["details"]
    referred_on = date.fromisoformat(payload["referred_on"])
    referral = MaracReferral(
        state="draft", referred_on=referred_on, referrer_id=actor.id, source_agency_id=actor.agency_id,
        neighbourhood=(details.get("neighbourhood") or "").strip() or None,
        incidents_last_12_months=details.get("incidents_last_12_months"),
        children_in_household=details.get("children_in_household", 0),
    )
    answers = details["dash"]
    referral.dash_answers = dash.encode(answers)
    referral.dash_score = referral.priority = dash.score(answers)
    if details.get("professional_judgement_reasons", "").strip():
        referral.professional_judgement_reasons = details["professional_judgement_reasons"].strip()
    if details.get("safe_contact", "").strip():
        referral.safe_contact = details["safe_contact"].strip()
    referral.subject = new_subject(payload["subject"])
    if details.get("perpetrator"):
        referral.perpetrator = new_subject(details["perpetrator"])

    # The routes as the referrer chose them: whether the service found an earlier referral is for the coordinator.
    referral.routes = ",".join(dict.fromkeys(details.get("routes", [])))
    previous = previous_referral(referral.subject, referred_on)
    if previous is not None and is_within_repeat_window(previous.referred_on, referred_on):
        referral.is_repeat, referral.repeat_of_id = True, previous.id

    ctx = Context(actor=actor, roles=frozenset({"referrer"}), now=now, occurred_on=referred_on)
    fire(referral, "submit", ctx)
    return referral


def describe(referral: MaracReferral) -> dict:
    """The MARAC fields of a case for the API (the caller has already been allowed to open it)."""
    perpetrator = referral.perpetrator
    return {
        "dash_score": referral.dash_score,
        "dash": referral.answers,
        "routes": referral.route_list,
        "professional_judgement_reasons": referral.professional_judgement_reasons,
        "incidents_last_12_months": referral.incidents_last_12_months,
        "children_in_household": referral.children_in_household,
        "safe_contact": referral.safe_contact,
        "perpetrator": None if perpetrator is None else {
            "forename": perpetrator.forename, "surname": perpetrator.surname,
            "date_of_birth": perpetrator.date_of_birth},
    }


INTAKE = Intake(details_schema=DETAILS, check=check_details, make=intake, describe=describe)

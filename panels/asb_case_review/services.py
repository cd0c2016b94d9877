"""ASB case review services: intake of an application, its checks, and what the API shows of it."""
from __future__ import annotations

from datetime import date, datetime

from panels.asb_case_review.models import AsbApplication, AsbComplaint
from panels.asb_case_review.schema import DETAILS
from panels.kit import Context, Intake, fire, new_subject


def check_details(details: dict, referred_on: date, today: date) -> dict[str, str]:
    """What the schema cannot say: dates in order and not in the future, and consent for a third party."""
    errors = {}
    applicant = details["applicant"]
    if applicant["on_behalf"] and not applicant["consent_recorded"]:
        errors["details.applicant.consent_recorded"] = ("Record the victim's consent: an application made on their "
                                                        "behalf needs it")
    for i, complaint in enumerate(details["complaints"]):
        where = f"details.complaints.{i}"
        incident, reported = (date.fromisoformat(complaint[k]) for k in ("incident_on", "reported_on"))
        if incident > today:
            errors[f"{where}.incident_on"] = "The date of the behaviour must be today or in the past"
        if reported > today:
            errors[f"{where}.reported_on"] = "The date it was reported must be today or in the past"
        elif reported < incident:
            errors[f"{where}.reported_on"] = "The complaint cannot have been reported before the behaviour happened"
        elif reported > referred_on:
            errors[f"{where}.reported_on"] = "The complaint must have been made on or before the application date"
    return errors


def intake(payload: dict, actor, now: datetime) -> AsbApplication:
    """Create an application from a validated payload and submit it (the caller commits)."""
    details, applicant = payload["details"], payload["details"]["applicant"]
    application = AsbApplication(
        state="draft", referred_on=date.fromisoformat(payload["referred_on"]), referrer_id=actor.id,
        source_agency_id=actor.agency_id, neighbourhood=(details.get("neighbourhood") or "").strip() or None,
        applicant_kind=applicant["kind"], on_behalf=applicant["on_behalf"],
        consent_recorded=applicant["consent_recorded"])
    application.subject = new_subject(payload["subject"])
    for item in details["complaints"]:
        complaint = AsbComplaint(incident_on=date.fromisoformat(item["incident_on"]),
                                 reported_on=date.fromisoformat(item["reported_on"]), agency=item["agency"].strip())
        if (item.get("reference") or "").strip():
            complaint.reference = item["reference"].strip()
        application.complaints.append(complaint)
    application.qualifying_complaints = application.priority = application.assessment.qualifying_incidents
    fire(application, "submit", Context(actor=actor, roles=frozenset({"referrer"}), now=now,
                                        occurred_on=application.referred_on))
    return application


def describe(application: AsbApplication) -> dict:
    """The panel's fields of an application for the API (the caller has already been allowed to open it)."""
    assessment = application.assessment
    return {
        "applicant": {"kind": application.applicant_kind, "on_behalf": application.on_behalf,
                      "consent_recorded": application.consent_recorded},
        "complaints": [{"incident_on": v.complaint.incident_on.isoformat(),
                        "reported_on": v.complaint.reported_on.isoformat(), "agency": v.complaint.agency,
                        "reference": v.complaint.reference, "qualifies": v.qualifies, "why": v.reason}
                       for v in assessment.verdicts],
        "threshold": {"qualifying_complaints": assessment.qualifying_incidents, "required": assessment.required,
                      "met": assessment.met},
        "decision": None if application.threshold_met is None else {
            "met": application.threshold_met, "ground": application.threshold_ground,
            "decided_on": application.decided_on.isoformat() if application.decided_on else None},
        "review": None if application.reviewed_on is None else {
            "met_on": application.reviewed_on.isoformat(), "applicant_attended": application.applicant_attended,
            "applicant_views": application.applicant_views, "recommendations": application.has_recommendations},
        "notified_on": application.notified_on.isoformat() if application.notified_on else None,
        "escalated_on": application.escalated_on.isoformat() if application.escalated_on else None,
        "letters": [{"id": letter.id, "kind": letter.kind, "written_on": letter.written_on.isoformat()}
                    for letter in application.letters],
    }


INTAKE = Intake(details_schema=DETAILS, check=check_details, make=intake, describe=describe)

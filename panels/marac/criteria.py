"""The four SafeLives referral routes and whether a referral evidences them."""
from __future__ import annotations

from panels.marac import settings
from panels.marac.models import ROUTES


def route_problems(referral) -> dict[str, str]:
    """Return field errors for routes that the referral's details do not evidence."""
    routes = referral.route_list
    errors: dict[str, str] = {}
    if not routes:
        return {"details.routes": "Choose at least one referral route"}
    unknown = [r for r in routes if r not in ROUTES]
    if unknown:
        errors["details.routes"] = f"Unknown referral route: {', '.join(unknown)}"
    needed = settings.visible_high_risk_score(referral)
    if "visible_high_risk" in routes and referral.dash_score < needed:
        errors["details.routes"] = (f"Visible high risk needs {needed} or more 'yes' answers; this checklist has "
                                    f"{referral.dash_score}")
    if "professional_judgement" in routes and not (referral.professional_judgement_reasons or "").strip():
        errors["details.professional_judgement_reasons"] = "Give the reasons for your professional judgement"
    incidents = settings.escalation_incidents(referral)
    if "potential_escalation" in routes and (referral.incidents_last_12_months or 0) < incidents:
        errors["details.incidents_last_12_months"] = (
            f"Potential escalation needs {incidents} or more incidents in the last 12 months")
    # "Repeat" is the referrer's own knowledge and is never checked against the service's records here: refusing it
    # would tell the referrer whether the person has MARAC history. The coordinator sees what the service found.
    return errors

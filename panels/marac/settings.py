"""MARAC local rules, read from configuration (defaults in app/config.py, sources in domain-workflows.md)."""
from __future__ import annotations

from flask import current_app


def visible_high_risk_score() -> int:
    return int(current_app.config["MARAC_VISIBLE_HIGH_RISK_SCORE"])


def escalation_incidents() -> int:
    return int(current_app.config["MARAC_ESCALATION_INCIDENTS"])


def repeat_months() -> int:
    return int(current_app.config["MARAC_REPEAT_MONTHS"])


def actions_only_triage_allowed() -> bool:
    return current_app.config["MARAC_TRIAGE_MODEL"] == "actions_only_allowed"


def adult_female_population() -> int | None:
    value = current_app.config["MARAC_ADULT_FEMALE_POPULATION"]
    return int(value) if value else None


def minutes_per_case() -> int:
    """About how long the MARAC spends on a case (SafeLives: 10-15 minutes)."""
    return int(current_app.config["MARAC_MINUTES_PER_CASE"])

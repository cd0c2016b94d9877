"""ASB case review local rules, read from configuration (defaults in app/config.py, sources in
domain-workflows.md section 2)."""
from __future__ import annotations

from flask import current_app


def _setting(name: str) -> int:
    return int(current_app.config[f"ASB_{name}"])


def qualifying_complaints() -> int:
    """N: the qualifying complaints that meet the threshold (3 in law, or a lower local number)."""
    return _setting("QUALIFYING_COMPLAINTS")


def acknowledge_working_days() -> int:
    return _setting("ACKNOWLEDGE_WORKING_DAYS")


def decision_working_days() -> int:
    return _setting("DECISION_WORKING_DAYS")


def review_meeting_days() -> int:
    return _setting("REVIEW_MEETING_DAYS")


def outcome_working_days() -> int:
    return _setting("OUTCOME_WORKING_DAYS")


def escalation_days() -> int:
    return _setting("ESCALATION_DAYS")


def minutes_per_case() -> int:
    return _setting("MINUTES_PER_CASE")

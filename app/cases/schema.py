"""The request schemas of referrals and workflow events (JSON Schema 2020-12): cases.services validates with them and
the API's OpenAPI document publishes them."""
from __future__ import annotations

from app.core.models import MAX_INT
from app.core.validation import built_once

#: A person's name (first or last): some text that is not only white space.
NAME = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"}
DATE = {"type": "string", "format": "date"}
BACKDATING_REASON_MAX = 2000

SUBJECT = {
    "type": "object", "additionalProperties": False, "required": ["forename", "surname", "date_of_birth"],
    "properties": {
        "forename": NAME,
        "surname": NAME,
        "date_of_birth": DATE,
        "address": {"type": "string", "maxLength": 500},
    },
}


def referral_schema(panels: dict) -> dict:
    """The referral body: shared fields, with "details" checked by the chosen panel's schema."""
    return built_once(panels, _referral_schema)


def _referral_schema(panels: dict) -> dict:
    return {
        "type": "object", "additionalProperties": False, "required": ["panel", "referred_on", "subject", "details"],
        "properties": {
            "panel": {"enum": sorted(panels)},
            "referred_on": {"type": "string", "format": "date"},
            "backdating_reason": {"type": "string", "maxLength": BACKDATING_REASON_MAX,
                                  "description": "Why the referral is dated further back than the area's setting "
                                                 "allows without a reason (cases.referral_backdating_days)"},
            "subject": SUBJECT,
            "details": {"type": "object"},
        },
        "allOf": [{"if": {"properties": {"panel": {"const": key}}},
                   "then": {"properties": {"details": panel.intake.details_schema}}} for key, panel in panels.items()],
    }


EVENT = {
    "type": "object", "additionalProperties": False, "required": ["event", "version"],
    "properties": {
        "event": {"type": "string", "minLength": 1, "maxLength": 40},
        "version": {"type": "integer", "minimum": 1, "maximum": MAX_INT},
        "occurred_on": {"type": "string", "format": "date"},
        "reason": {"type": "string", "maxLength": 5000},
        "data": {"type": "object", "description": "What the event needs, e.g. meeting_id for list, "
                                                  "actions for hear."},
    },
}

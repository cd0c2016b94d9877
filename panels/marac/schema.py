"""JSON Schema of a MARAC referral's "details" (validates API requests and feeds the OpenAPI document)."""
from __future__ import annotations

from panels.marac import dash
from panels.marac.models import ROUTES

PERSON = {
    "type": "object", "additionalProperties": False, "required": ["forename", "surname"],
    "properties": {
        "forename": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
        "surname": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
        "date_of_birth": {"type": "string", "format": "date"},
    },
}

DETAILS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["dash", "routes"],
    "properties": {
        "dash": {
            "type": "object", "additionalProperties": False, "required": list(dash.KEYS),
            "description": "The 24 DASH questions, each yes, no or unknown (not known).",
            "properties": {k: {"enum": list(dash.ANSWERS)} for k in dash.KEYS},
        },
        "routes": {"type": "array", "uniqueItems": True, "maxItems": len(ROUTES),
                   "items": {"enum": list(ROUTES)}},
        "professional_judgement_reasons": {"type": "string", "maxLength": 5000},
        "incidents_last_12_months": {"type": "integer", "minimum": 0, "maximum": 1000},
        "children_in_household": {"type": "integer", "minimum": 0, "maximum": 30},
        "perpetrator": PERSON,
        "neighbourhood": {"type": "string", "maxLength": 80},
        "safe_contact": {"type": "string", "maxLength": 500,
                         "description": "How and when the victim can be contacted safely."},
    },
}

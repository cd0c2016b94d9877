"""JSON Schema of an ASB case review application's "details" (validates the API and feeds the OpenAPI document)."""
from __future__ import annotations

from panels.asb_case_review.models import APPLICANT_KINDS

DATE = {"type": "string", "format": "date"}
MAX_COMPLAINTS = 50

COMPLAINT = {
    "type": "object", "additionalProperties": False, "required": ["incident_on", "reported_on", "agency"],
    "properties": {
        "incident_on": {**DATE, "description": "When the behaviour happened."},
        "reported_on": {**DATE, "description": "When it was reported."},
        "agency": {"type": "string", "minLength": 1, "maxLength": 120, "pattern": r"\S",
                   "description": "The agency it was reported to."},
        "reference": {"type": "string", "maxLength": 60, "description": "That agency's reference, if known."},
    },
}

DETAILS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["applicant", "complaints"],
    "properties": {
        "applicant": {
            "type": "object", "additionalProperties": False, "required": ["kind", "on_behalf", "consent_recorded"],
            "properties": {
                "kind": {"enum": list(APPLICANT_KINDS), "description": "Who the behaviour affects."},
                "on_behalf": {"type": "boolean",
                              "description": "Made by a third party (family, carer, councillor, MP) for the victim."},
                "consent_recorded": {"type": "boolean",
                                     "description": "The victim's consent to a third-party application is recorded."},
            },
        },
        "complaints": {"type": "array", "minItems": 1, "maxItems": MAX_COMPLAINTS, "items": COMPLAINT},
        "neighbourhood": {"type": "string", "maxLength": 80},
    },
}

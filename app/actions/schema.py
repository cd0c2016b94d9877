"""The request schema of an action's update (JSON Schema 2020-12), published in the OpenAPI document."""
from __future__ import annotations

from app.actions.models import ACTION_STATUSES
from app.core.models import MAX_INT

ACTION_UPDATE = {
    "type": "object", "additionalProperties": False, "required": ["status", "version"],
    "properties": {"status": {"enum": list(ACTION_STATUSES)},
                   "outcome": {"type": "string", "maxLength": 5000,
                               "description": "Complete: the evidence it was done; not done: why not. Required for "
                                              "both."},
                   "version": {"type": "integer", "minimum": 1, "maximum": MAX_INT}},
}

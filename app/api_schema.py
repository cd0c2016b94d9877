"""Request schemas of the JSON API (JSON Schema 2020-12): they validate requests and build the OpenAPI document."""
from __future__ import annotations

from jsonschema import Draft202012Validator, FormatChecker

SUBJECT = {
    "type": "object", "additionalProperties": False, "required": ["forename", "surname", "date_of_birth"],
    "properties": {
        "forename": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
        "surname": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"},
        "date_of_birth": {"type": "string", "format": "date"},
        "address": {"type": "string", "maxLength": 500},
    },
}


#: Schemas and validators built once per source object (the panels are fixed when the app starts).
_built: dict[int, tuple[object, object]] = {}


def _once(source, build):
    """Return build(source), made once for this very object (ids are checked against the object itself)."""
    cached = _built.get(id(source))
    if cached is None or cached[0] is not source:
        cached = _built[id(source)] = (source, build(source))
    return cached[1]


def referral_schema(panels: dict) -> dict:
    """The referral body: shared fields, with "details" checked by the chosen panel's schema."""
    return _once(panels, _referral_schema)


def _referral_schema(panels: dict) -> dict:
    return {
        "type": "object", "additionalProperties": False, "required": ["panel", "referred_on", "subject", "details"],
        "properties": {
            "panel": {"enum": sorted(panels)},
            "referred_on": {"type": "string", "format": "date"},
            "subject": SUBJECT,
            "details": {"type": "object"},
        },
        "allOf": [{"if": {"properties": {"panel": {"const": key}}},
                   "then": {"properties": {"details": panel.details_schema}}} for key, panel in panels.items()],
    }


EVENT = {
    "type": "object", "additionalProperties": False, "required": ["event", "version"],
    "properties": {
        "event": {"type": "string", "minLength": 1, "maxLength": 40},
        "version": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
        "occurred_on": {"type": "string", "format": "date"},
        "reason": {"type": "string", "maxLength": 5000},
        "data": {"type": "object", "description": "What the event needs, e.g. meeting_id for list, "
                                                  "actions for hear."},
    },
}

ACTION_UPDATE = {
    "type": "object", "additionalProperties": False, "required": ["status", "version"],
    "properties": {"status": {"enum": ["open", "complete", "not_done"]},
                   "version": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}},
}

_FRIENDLY = {
    "required": lambda e: "is required",
    "enum": lambda e: "must be one of: " + ", ".join(map(str, e.validator_value)),
    "const": lambda e: "has the wrong value",
    "type": lambda e: f"must be {'an' if str(e.validator_value)[0] in 'aeiou' else 'a'} {e.validator_value}",
    "maxLength": lambda e: f"must be {e.validator_value} characters or fewer",
    "minLength": lambda e: "must not be empty",
    "pattern": lambda e: "must not be blank",
    "format": lambda e: "must be a real date written YYYY-MM-DD",
    "minimum": lambda e: f"must be {e.validator_value} or more",
    "maximum": lambda e: f"must be {e.validator_value} or less",
    "additionalProperties": lambda e: "is not a field this request takes",
    "uniqueItems": lambda e: "must not repeat a value",
    "maxItems": lambda e: f"must have at most {e.validator_value} items",
    "minItems": lambda e: f"must have at least {e.validator_value} items",
}


def _field(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    elif error.validator == "additionalProperties":
        extras = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        path.append(extras[0] if extras else "")
    return ".".join(p for p in path if p) or "body"


def _nul_characters(value, path: str = "") -> dict[str, str]:
    """Field errors for strings holding a NUL character (PostgreSQL cannot store one in a text column)."""
    if isinstance(value, str):
        return {path or "body": "must not contain a NUL character"} if "\x00" in value else {}
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    errors: dict[str, str] = {}
    for key, item in items:
        errors.update(_nul_characters(item, f"{path}.{key}" if path else str(key)))
    return errors


def field_errors(schema: dict, body) -> dict[str, str]:
    """Validate and return {field path: message}; empty when the body is valid (NUL characters never are)."""
    validator = _once(schema, lambda s: Draft202012Validator(s, format_checker=FormatChecker()))
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        if error.validator in ("if", "allOf"):
            continue
        errors.setdefault(_field(error), _FRIENDLY.get(error.validator, lambda e: "is not valid")(error))
    return errors or _nul_characters(body)

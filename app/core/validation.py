"""Validating JSON bodies (JSON Schema 2020-12) into field-level messages people can act on.

The schemas live beside the services that validate with them (cases, actions, each panel's details); the API
assembles its OpenAPI document from the same schemas.
"""
from __future__ import annotations

import re

from jsonschema import Draft202012Validator, FormatChecker

#: Schemas and validators built once per source object (the panels are fixed when the app starts).
_built: dict[int, tuple[object, object]] = {}


def built_once(source, build):
    """Return build(source), made once for this very object (ids are checked against the object itself)."""
    cached = _built.get(id(source))
    if cached is None or cached[0] is not source:
        cached = _built[id(source)] = (source, build(source))
    return cached[1]


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


#: How deeply a request body may nest objects and arrays. The deepest real body is 4 (data.actions[i].text);
#: anything far deeper is an attack on the parser, the validator or the stack, not a request.
MAX_DEPTH = 32
TOO_DEEP = f"must not nest objects and arrays more than {MAX_DEPTH} deep"
#: Lone UTF-16 surrogates: JSON's \uD800 escapes decode to them, but they are not text and cannot be encoded
#: (to encrypt or to store), so they are refused with the field's name like any other invalid value.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _children(value, path: str):
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [(f"{path}.{key}" if path else str(key), item) for key, item in items]


def _nesting_error(body) -> dict[str, str]:
    """A field error naming the top-level field that nests deeper than MAX_DEPTH (walked level by level)."""
    level = [("", body)]
    for _ in range(MAX_DEPTH):
        level = [child for path, value in level for child in _children(value, path)]
    too_deep = sorted(path for path, value in level if isinstance(value, (dict, list)))
    return {too_deep[0].split(".")[0]: TOO_DEEP} if too_deep else {}


def _text_errors(body) -> dict[str, str]:
    """Field errors for strings no column can store: a NUL (PostgreSQL's text) or a lone surrogate (UTF-8)."""
    errors: dict[str, str] = {}
    stack = [("", body)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                errors[path or "body"] = "must not contain a NUL character"
            elif _SURROGATE.search(value):
                errors[path or "body"] = "must not contain an unpaired surrogate (it is not valid Unicode text)"
        else:
            stack.extend(_children(value, path))
    return dict(sorted(errors.items()))


def field_errors(schema: dict, body) -> dict[str, str]:
    """Validate and return {field path: message}; empty when the body is valid.

    A body nested deeper than MAX_DEPTH is refused before the validator walks it; strings holding a NUL or a lone
    surrogate never are valid.
    """
    too_deep = _nesting_error(body)
    if too_deep:
        return too_deep
    validator = built_once(schema, lambda s: Draft202012Validator(s, format_checker=FormatChecker()))
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        if error.validator in ("if", "allOf"):
            continue
        errors.setdefault(_field(error), _FRIENDLY.get(error.validator, lambda e: "is not valid")(error))
    return errors or _text_errors(body)

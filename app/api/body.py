"""Reading an API request's body: JSON only, bounded in size and depth, checked against its schema."""
from __future__ import annotations

from flask import request

from app.core.validation import TOO_DEEP, field_errors
from workflows import Invalid

#: The largest request body the API reads: a request declaring a larger one is refused with 413 unread.
MAX_BODY = 256 * 1024


def json_body():
    """The request's parsed JSON, or None when it is not JSON; 413 when it is too large, 422 when too deep."""
    request.max_content_length = MAX_BODY  # also caps a chunked body that declares no length
    try:
        return request.get_json(silent=True)
    except RecursionError:
        # Python's parser recurses once per level and gives up near the stack's limit (a 256 KiB body can nest
        # far deeper): such a body is refused like any other nested deeper than field_errors allows.
        raise Invalid({"body": TOO_DEEP}) from None


def valid_body(schema: dict) -> dict:
    """The request's JSON object if the schema finds it valid; otherwise Invalid with a message per field."""
    body = json_body()
    if not isinstance(body, dict):
        raise Invalid({"body": "Send a JSON object with Content-Type: application/json"})
    errors = field_errors(schema, body)
    if errors:
        raise Invalid(errors)
    return body

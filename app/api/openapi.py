"""The OpenAPI 3.1 document, generated from the schemas that validate requests."""
from __future__ import annotations

from app.actions.schema import ACTION_UPDATE
from app.api.body import MAX_BODY
from app.cases.schema import EVENT, referral_schema
from app.measures.periods import GRAINS, MAX_CELLS

ERROR = {"type": "object", "required": ["error", "message"],
         "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                        "reasons": {"type": "array", "items": {"type": "string"}}}}
CASE_SUMMARY = {"type": "object", "required": ["id", "panel", "state", "version"],
                "properties": {"id": {"type": "integer"}, "reference": {"type": "string"},
                               "panel": {"type": "string"}, "state": {"type": "string"},
                               "version": {"type": "integer"},
                               "is_repeat": {"type": "boolean", "description": "The panel's coordinators only"},
                               "repeat_of": {"type": ["integer", "null"],
                                             "description": "The panel's coordinators only"},
                               "referred_on": {"type": "string", "format": "date"},
                               "closed_on": {"type": ["string", "null"], "format": "date"},
                               "priority": {"type": "integer"}}}
MEETING = {"type": "object", "properties": {"id": {"type": "integer"}, "panel": {"type": "string"},
                                            "starts_at": {"type": "string"}, "cutoff_at": {"type": "string"},
                                            "duration_minutes": {"type": "integer"}, "venue": {"type": "string"}}}


def _error(description: str) -> dict:
    return _json("Error", description)


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


def _body(schema_ref: str) -> dict:
    return {"required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}}


FIGURE = {"type": "object", "required": ["key", "title", "definition", "value", "suppressed"],
          "properties": {"key": {"type": "string"}, "title": {"type": "string"}, "definition": {"type": "string"},
                         "value": {"type": ["number", "null"],
                                   "description": "null when suppressed, or when there is nothing to measure"},
                         "suppressed": {"type": "boolean",
                                        "description": "withheld so that no person can be identified"}}}
MEASURES = {"type": "object", "required": ["panel", "from", "to", "measures"],
            "properties": {"panel": {"type": "string"}, "from": {"type": "string", "format": "date"},
                           "to": {"type": "string", "format": "date"},
                           "measures": {"type": "array", "items": {"$ref": "#/components/schemas/Figure"}},
                           "breakdown": {"type": "string"},
                           "by": {"type": "array", "items": {
                               "type": "object", "required": ["group", "measures"],
                               "properties": {"group": {"type": "string"}, "measures": {
                                   "type": "array", "items": {"$ref": "#/components/schemas/Figure"}}}}}}}
CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}


def _measures_parameters(panels: dict) -> list[dict]:
    measured = [p for p in panels.values() if p.measures]
    breakdowns = sorted({b for p in measured for b in p.measures.breakdowns})
    day = {"type": "string", "format": "date"}
    return [
        {"name": "panel", "in": "path", "required": True, "schema": {"type": "string",
                                                                      "enum": [p.key for p in measured]}},
        {"name": "from", "in": "query", "schema": day,
         "description": "First day, inclusive: the first day of a period of the grain (referrals are counted by their "
                        "referral date). Default: the start of the latest twelve complete months (four quarters, "
                        "one financial year)."},
        {"name": "to", "in": "query", "schema": day,
         "description": "Last day, inclusive: the last day of a period of the grain, no later than the end of the last "
                        "complete month, at most ten years after `from`. Default: the end of the last complete "
                        "period of the grain."},
        {"name": "grain", "in": "query", "schema": {"type": "string", "enum": list(GRAINS)},
         "description": "What the period is made of: whole months (the default), quarters, or financial years (1 April "
                        "to 31 March). A breakdown other than by month is over whole quarters whatever the grain."},
        {"name": "by", "in": "query", "schema": {"type": "string", "enum": breakdowns},
         "description": "Break the figures down by group (each panel allows some of these)."},
    ]


def document(panels: dict) -> dict:
    common = {"401": _error("No valid bearer token (unknown, revoked or expired)"),
              "404": _error("Not found, or not yours (or not your token's panels) to see"),
              "429": _error("This token made too many requests this minute: wait Retry-After seconds")}
    writes = {"403": _error("The token may only read; nothing changed")}
    too_large = {"413": _error(f"The body is larger than {MAX_BODY // 1024} KiB; nothing was read or changed")}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Panel case coordination API", "version": "1.0.0",
                 "description": "Referrals, cases, workflow events and meetings for community-safety panels. "
                                "Authenticate with `Authorization: Bearer <token>` (`flask tokens create EMAIL`). A "
                                "token expires, may be limited to reading and to some panels, and is throttled."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/referrals": {"post": {
                "operationId": "createReferral", "summary": "Make a referral to a panel",
                "requestBody": _body("Referral"),
                "responses": {"201": _json("CaseSummary", "The referral was received"),
                              "422": _error("The referral is not valid; nothing was saved"), **too_large, **writes,
                              **common}}},
            "/api/v1/cases": {"get": {
                "operationId": "listCases",
                "summary": "One page of the cases the caller may open, newest referral first",
                "parameters": [{"name": "status", "in": "query", "schema": {"enum": ["open", "closed", "all"]}},
                               {"name": "page", "in": "query",
                                "schema": {"type": "integer", "minimum": 1, "maximum": 10000}}],
                "responses": {"200": {"description": "A page of cases", "content": {"application/json": {
                    "schema": {"type": "object", "required": ["cases", "page", "next_page"], "properties": {
                        "cases": {"type": "array", "items": CASE_SUMMARY}, "page": {"type": "integer"},
                        "next_page": {"type": ["integer", "null"]}}}}}},
                    "401": common["401"], "422": _error("An unknown state filter or page"),
                    "429": common["429"]}}},
            "/api/v1/cases/{case_id}": {"get": {
                "operationId": "getCase", "summary": "A case as the caller may see it",
                "parameters": [CASE_ID],
                "responses": {"200": {"description": "The case, with the events the caller may fire",
                                      "content": {"application/json": {"schema": {"type": "object"}}}},
                              **common}}},
            "/api/v1/cases/{case_id}/events": {"post": {
                "operationId": "fireEvent", "summary": "Fire a workflow event",
                "parameters": [CASE_ID], "requestBody": _body("Event"),
                "responses": {"200": _json("CaseSummary", "The case moved"),
                              "409": _error("The version is stale; nothing changed"),
                              "422": _error("Not allowed now, by this role, or blocked; nothing changed"),
                              **too_large, **writes, **common}}},
            "/api/v1/cases/{case_id}/actions/{action_id}": {"post": {
                "operationId": "updateAction", "summary": "Update an action's status",
                "parameters": [CASE_ID, {"name": "action_id", "in": "path", "required": True,
                                         "schema": {"type": "integer", "minimum": 1}}],
                "requestBody": _body("ActionUpdate"),
                "responses": {"200": {"description": "Updated", "content": {"application/json": {
                    "schema": {"type": "object"}}}}, "409": _error("Stale version"),
                    "422": _error("Invalid"), **too_large, **writes, **common}}},
            "/api/v1/meetings": {"get": {
                "operationId": "listMeetings", "summary": "Meetings the caller coordinates or sits on",
                "responses": {"200": {"description": "Meetings", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"meetings": {"type": "array", "items": MEETING}}}}}},
                    "401": common["401"], "429": common["429"]}}},
            "/api/v1/meetings/{meeting_id}/agenda": {"get": {
                "operationId": "meetingAgenda",
                "summary": "A meeting's agenda in running order (cases the caller may not open are left out)",
                "parameters": [{"name": "meeting_id", "in": "path", "required": True,
                                "schema": {"type": "integer", "minimum": 1}}],
                "responses": {"200": {"description": "The agenda", "content": {"application/json": {"schema": {
                    "type": "object", "properties": {"meeting": MEETING,
                                                     "items": {"type": "array", "items": CASE_SUMMARY}}}}}},
                    **common}}},
            "/api/v1/measures/{panel}": {"get": {
                "operationId": "panelMeasures",
                "summary": "A panel's outcome measures for a run of whole months, quarters or financial years: "
                           "anonymised counts with small numbers suppressed",
                "parameters": _measures_parameters(panels),
                "responses": {"200": _json("Measures", "The measures (and each group's, with `by`)"),
                              "422": _error("Unknown panel, grain or breakdown; a date that is not a date, not on a "
                                            "period boundary of the grain, after the last complete month, or from "
                                            "after to; a period over ten years; a breakdown over "
                                            f"{MAX_CELLS:,} figures. `errors` names each field with its reason"),
                              "429": {**_error("Too many requests for measures by this person; nothing was read"),
                                      "headers": {"Retry-After": {"description": "Seconds to wait",
                                                                  "schema": {"type": "integer"}}}},
                              **common}}},
            "/api/v1/openapi.json": {"get": {
                "operationId": "openapi", "summary": "This document", "security": [],
                "responses": {"200": {"description": "The OpenAPI 3.1 document",
                                      "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Referral": referral_schema(panels), "Event": EVENT, "ActionUpdate": ACTION_UPDATE,
                        "CaseSummary": CASE_SUMMARY, "Error": ERROR,
                        "Measures": MEASURES, "Figure": FIGURE},
        },
    }

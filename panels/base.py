"""What a panel plugs into the shared code: its workflow, case model, API intake and page forms."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Blueprint

from app.measures.definition import MeasureSet
from workflows import Workflow


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    workflow: Workflow
    case_model: type
    blueprint: Blueprint
    #: JSON Schema of the API's referral "details" object (also published in the OpenAPI document).
    details_schema: dict
    #: Create and submit a referral from a validated API/page payload; raises workflows.Invalid.
    intake: Callable[..., Any]
    #: What the details schema cannot check (dates in order, not in the future): (details, referred_on, today) ->
    #: field errors keyed like "details.complaints.0.reported_on".
    check_details: Callable[[dict, date, date], dict[str, str]]
    #: The panel's fields of a case for the API and case page, as the caller may see them.
    describe: Callable[[Any], dict]
    #: Page forms for steps that need more than a reason and a date, by trigger.
    step_forms: dict[str, type] = field(default_factory=dict)
    #: Template that renders the panel's part of the case page.
    case_template: str = ""
    #: States in which agencies add what their records hold (before the meeting).
    research_states: tuple[str, ...] = ()
    #: The panel's outcome measures (app.measures).
    measures: MeasureSet | None = None
    #: The link to the panel's referral or application form: (text, endpoint).
    new_referral: tuple[str, str] = ("", "")
    #: Meetings. The state in which a case waits for a meeting, the step that lists it on one (its data names the
    #: meeting), and the step that records the meeting's discussion of it.
    ready_state: str = ""
    list_step: str = "list"
    meeting_step: str = ""
    #: The panel's running-order rule: SQL ORDER BY terms over Case (and its own table) for proposed cases.
    agenda_order: Callable[[], list] = lambda: []
    #: About how long the meeting spends on a case, in minutes (a setting).
    minutes_per_case: Callable[[], int] = lambda: 15

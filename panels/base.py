"""What a panel plugs into the shared code: its workflow, case model, API intake and page forms."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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

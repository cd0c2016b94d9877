"""The panel contract: everything a panel declares, in one value, checked when the app starts.

A panel is one ``Panel`` in its package. Shared code reads panels only through this contract (from the registry
``app.extensions["panels"]``); a panel reaches shared code only through ``panels.kit``. ``Panel.validate()`` refuses
an incomplete or inconsistent panel with a sentence naming what is wrong, and one contract test runs it over every
registered panel. docs/architecture.md has the checklist for adding one.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask import Blueprint

from app.core.access import AccessModel, relations
from app.core.settings import SettingGroup
from app.measures.definition import MeasureSet
from workflows import Workflow


@dataclass(frozen=True)
class Intake:
    """How a referral (an application, a notification) becomes a case: the API's body and the panel's own form
    both come here, through app.cases.services.refer."""

    #: JSON Schema of the body's "details" (validates the API and the pages; published in the OpenAPI document).
    details_schema: dict
    #: What the schema cannot check (dates in order, not in the future): (details, referred_on, today) -> field
    #: errors keyed like "details.complaints.0.reported_on".
    check: Callable[[dict, date, date], dict[str, str]]
    #: Create the case from a valid body and submit it: (body, actor, now) -> case; raises workflows.Invalid.
    make: Callable[..., Any]
    #: The panel's fields of a case for the API, as the caller (already allowed to open it) may see them.
    describe: Callable[[Any], dict]


@dataclass(frozen=True)
class Pages:
    """The panel's own pages and its parts of the shared ones."""

    blueprint: Blueprint
    #: The link to the panel's referral form on the case list: (text, endpoint).
    new_referral: tuple[str, str]
    #: The template of the panel's part of the case page.
    case_template: str
    #: Forms for steps that need more than a reason and a date, by trigger.
    step_forms: dict[str, type] = field(default_factory=dict)


@dataclass(frozen=True)
class Meetings:
    """How the panel's cases come to its meetings (app.meetings)."""

    #: The state in which a case waits for a meeting.
    ready_state: str
    #: The step that records the meeting's discussion of a case (MARAC "hear", ASB "review").
    meeting_step: str
    #: The running-order rule: SQL ORDER BY terms over Case (and the panel's table) for proposed cases.
    agenda_order: Callable[[], list]
    #: About how long the meeting spends on a case, in minutes (read from the panel's settings).
    minutes_per_case: Callable[[], int]
    #: The step that lists a case on a meeting (its data names the meeting).
    list_step: str = "list"


@dataclass(frozen=True)
class Retention:
    """How long the panel's closed cases are kept, and on what basis (the purge job reads it)."""

    years_after_closure: int
    basis: str


@dataclass(frozen=True)
class Demo:
    """What the panel adds to the synthetic demo partnership (app.admin.demo)."""

    #: People it needs: (email local part, agency code, role); a seat role sits on this panel.
    users: tuple[tuple[str, str, str], ...]
    #: Seeds the panel's cases, meetings and series: (area) -> None, given an app.admin.demo.DemoArea.
    seed: Callable[[Any], None]


@dataclass(frozen=True)
class Panel:
    # Identity: the key names it in URLs, tables and settings; cases are referred to as PREFIX-000123.
    key: str
    title: str
    reference_prefix: str
    # Its workflow (states, steps, guards, deadlines, as data) and its case model (a joined-table Case).
    workflow: Workflow
    case_model: type
    intake: Intake
    pages: Pages
    #: Who may see its cases: the relations, its seat roles, whether it is a compartment and takes part in matching.
    access: AccessModel
    #: Its local rules, versioned and changed by administrators (app.core.settings).
    settings: SettingGroup
    retention: Retention
    #: States in which agencies add what their records hold (before the meeting).
    research_states: tuple[str, ...] = ()
    meetings: Meetings | None = None
    #: Its outcome measures (app.measures).
    measures: MeasureSet | None = None
    demo: Demo | None = None

    def problems(self) -> list[str]:
        """Everything incomplete or inconsistent in the declaration, each as a sentence."""
        out: list[str] = []
        wf = self.workflow
        states = set(wf.states)
        if not self.key.isidentifier() or self.key != self.key.lower():
            out.append(f"its key {self.key!r} must be lower-case letters, digits and underscores")
        if not self.title.strip():
            out.append("it has no title")
        if not self.reference_prefix or not self.reference_prefix.replace("_", "").isalnum() \
                or self.reference_prefix != self.reference_prefix.upper():
            out.append(f"its reference prefix {self.reference_prefix!r} must be upper-case letters and digits")
        if wf.name != self.key:
            out.append(f"its workflow is named {wf.name!r}, not after the panel")
        try:
            wf.validate()
        except ValueError as exc:
            out.append(str(exc))
        identity = getattr(self.case_model, "__mapper_args__", {}).get("polymorphic_identity")
        if identity != self.key:
            out.append(f"its case model {self.case_model.__name__} has polymorphic identity {identity!r}, not "
                       f"{self.key!r}")
        out += [f"its research state {s!r} is not in the workflow" for s in self.research_states if s not in states]
        out += [f"the step form for {t!r} has no step of that name" for t in self.pages.step_forms if not wf.step(t)]
        if self.settings.key != self.key:
            out.append(f"its settings group is keyed {self.settings.key!r}, not after the panel")
        out += self.settings.problems()
        out += self._meeting_problems()
        out += self._access_problems()
        # (A measure key used twice is refused where the measures are declared: app.measures.definition.MeasureSet.)
        if self.measures is not None and self.measures.panel != self.key:
            out.append(f"its measures are for panel {self.measures.panel!r}")
        if self.retention.years_after_closure < 1 or not self.retention.basis.strip():
            out.append("its retention needs a period of at least a year and the basis for it")
        return out

    def _meeting_problems(self) -> list[str]:
        if self.meetings is None:
            return []
        m, wf = self.meetings, self.workflow
        out = []
        if m.ready_state not in wf.states:
            out.append(f"its ready state {m.ready_state!r} is not in the workflow")
        elif not any(s.dest == m.ready_state for s in wf.steps):
            out.append(f"no step reaches its ready state {m.ready_state!r}")
        listing = wf.step(m.list_step)
        if listing is None:
            out.append(f"its list step {m.list_step!r} is not in the workflow")
        elif m.ready_state not in listing.source:
            out.append(f"its list step {m.list_step!r} does not start from the ready state {m.ready_state!r}")
        hearing = wf.step(m.meeting_step)
        if hearing is None:
            out.append(f"its meeting step {m.meeting_step!r} is not in the workflow")
        elif listing is not None and listing.dest not in hearing.source:
            out.append(f"its meeting step {m.meeting_step!r} cannot follow the list step {m.list_step!r}")
        return out

    def _access_problems(self) -> list[str]:
        a, known = self.access, {r.key for r in relations()}
        out = [f"its access model names unknown relation {r!r}" for r in a.relations if r not in known]
        if not a.relations:
            out.append("its access model lets nobody open its cases")
        out += [f"its role {r.key!r} is not a seat role" for r in a.roles if not r.per_panel]
        if a.compartment and a.matching:
            out.append("a compartment cannot take part in cross-panel matching")
        return out

    def validate(self) -> None:
        """Refuse an incomplete or inconsistent panel, naming what is wrong."""
        problems = self.problems()
        if problems:
            raise ValueError(f"panel {self.key!r}: " + "; ".join(problems))

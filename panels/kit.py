"""The panel kit: the one surface a panel imports shared code from (tests/test_architecture.py keeps it so).

Everything here is defined, and documented, in the shared code it names; this module only gathers it, grouped in
``__all__`` by what a panel does with it. A panel needing something that is not here adds it here, so the surface
stays one list a newcomer can read.
"""
from __future__ import annotations

from app.cases.forms import IntakeForm, StepForm
from app.cases.intake import intake_page
from app.cases.schema import DATE, NAME
from app.cases.services import not_future
from app.cases.steps import close
from app.core.access import (
    COORDINATOR,
    COORDINATORS,
    REFERRER,
    REFERRERS,
    AccessModel,
    actor,
    coordinates,
    load_case,
    policy,
    sees_repeat_status,
)
from app.core.crypto import EncryptedField
from app.core.extensions import db
from app.core.models import AGENCY_KINDS, Case, Subject, new_uid
from app.core.roles import AGENCY_CONTACT_SEAT, COORDINATOR_SEAT, PANEL_MEMBER_SEAT
from app.core.settings import Setting, SettingGroup
from app.core.subjects import REPEAT, is_person, new_subject, same_person
from app.core.timeutil import add_months, add_working_days, today, utcnow
from app.measures.charts import display
from app.measures.compute import Results, answer
from app.measures.definition import Count, MeasureSet, Median, Rate, Share, Total, case_facts
from app.measures.periods import InvalidQuery, Period, quarter
from app.measures.sql import days_between
from app.measures.views import WITHHELD
from app.meetings.forms import ActionsForm, ListForm
from app.meetings.models import Meeting
from app.meetings.steps import (
    actions_given,
    actions_settled,
    list_on_meeting,
    meeting_chosen,
    meeting_has_happened,
    record_actions,
    take_off_agendas,
)
from app.web.downloads import csv_download
from app.web.forms import (
    FlaskForm,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
    Length,
    Optional,
    StringField,
    SubmitField,
    TextAreaField,
    past_date_field,
)
from panels.base import Demo, Intake, Meetings, Pages, Panel, Retention
from workflows import SYSTEM, Context, DeadlineRule, Guard, Invalid, Step, Workflow, fire
from workflows.models import CaseTransition

#: The access of a multi-agency panel, need to know: the referrer, the practitioners named on a case (an agency's lead,
#: an action's assignee), the panel's coordinators, the members seated at a meeting where the case is listed or whose
#: agency owns an action on it, an agency's single point of contact for its agency's cases, and a coordinator of
#: another panel under emergency access; it takes part in matching.
MULTI_AGENCY = AccessModel(relations=("referrer", "named_lead", "action_assignee", "coordinator", "meeting_seat",
                                      "agency_action", "agency_contact", "emergency_access"),
                           roles=(COORDINATOR_SEAT, PANEL_MEMBER_SEAT, AGENCY_CONTACT_SEAT))

__all__ = [
    # The contract a panel fills in (panels.base).
    "Demo", "Intake", "Meetings", "Pages", "Panel", "Retention",
    # Its workflow, declared as data, and the history every move writes (workflows).
    "SYSTEM", "CaseTransition", "Context", "DeadlineRule", "Guard", "Invalid", "Step", "Workflow", "close", "fire",
    # Who takes a step, opens a case and sees the panel (app.core.access, app.core.roles).
    "COORDINATOR", "COORDINATORS", "COORDINATOR_SEAT", "MULTI_AGENCY", "PANEL_MEMBER_SEAT", "REFERRER", "REFERRERS",
    "AccessModel", "actor", "coordinates", "load_case", "policy", "sees_repeat_status",
    # Its tables: a joined-table case, the people it is about, encrypted columns (app.core).
    "AGENCY_KINDS", "Case", "EncryptedField", "Subject", "db", "is_person", "new_subject", "new_uid",
    # Finding the same person again: a panel's own repeat detection has its own blind index (app.core.subjects).
    "REPEAT", "same_person",
    # Its local rules, with types, defaults, bounds and help (app.core.settings).
    "Setting", "SettingGroup",
    # Time: calendar months, working days with England and Wales bank holidays, the UK's today (app.core.timeutil).
    "add_months", "add_working_days", "today", "utcnow",
    # Intake and its pages: the referral form and page, the JSON schema pieces, step forms, downloads (app.cases,
    # app.web).
    "DATE", "NAME", "FlaskForm", "GovSubmitInput", "GovTextArea", "GovTextInput", "IntakeForm", "Length",
    "Optional", "StepForm", "StringField", "SubmitField", "TextAreaField", "csv_download", "intake_page",
    "not_future", "past_date_field",
    # Meetings: the steps, guards and forms of a panel whose cases come to meetings (app.meetings).
    "ActionsForm", "ListForm", "Meeting", "actions_given", "actions_settled", "list_on_meeting", "meeting_chosen",
    "meeting_has_happened", "record_actions", "take_off_agendas",
    # Measures: declared as data, computed and protected by disclosure control in one place (app.measures).
    "WITHHELD", "Count", "InvalidQuery", "MeasureSet", "Median", "Period", "Rate", "Results", "Share", "Total",
    "answer", "case_facts", "days_between", "display", "quarter",
]

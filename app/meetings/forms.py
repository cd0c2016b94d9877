"""Step forms every panel with meetings uses: choosing the meeting to list a case on, and recording actions."""
from __future__ import annotations

from datetime import date, datetime, time

from govuk_frontend_wtf.wtforms_widgets import GovSelect
from sqlalchemy import select
from wtforms import SelectField
from wtforms.validators import InputRequired

from app.cases.forms import StepForm
from app.core.extensions import db
from app.core.models import Agency
from app.core.timeutil import today
from app.meetings.models import Meeting
from app.web.forms import (
    DateField,
    GovDateInput,
    GovTextArea,
    GovTextInput,
    Length,
    Optional,
    StringField,
    TextAreaField,
)

ACTION_ROWS = 5


class ListForm(StepForm):
    meeting_id = SelectField("Meeting", widget=GovSelect(), coerce=int,
                             validators=[InputRequired("Choose the meeting")])

    def prepare(self, case) -> None:
        start_of_today = datetime.combine(today(), time.min)
        meetings = db.session.scalars(select(Meeting).where(Meeting.panel == case.panel,
                                                            Meeting.starts_at >= start_of_today)
                                      .order_by(Meeting.starts_at).limit(20)).all()
        self.meeting_id.choices = [(m.id, f"{m.starts_at:%A %d %B %Y, %H:%M} – {m.venue}") for m in meetings]

    def step_data(self) -> dict:
        return {"meeting_id": self.meeting_id.data}


class ActionsForm(StepForm):
    """A step that records actions: up to ACTION_ROWS rows; blank rows are ignored."""

    def prepare(self, case) -> None:
        agencies = db.session.execute(select(Agency.code, Agency.name).order_by(Agency.name)).all()
        for i in range(ACTION_ROWS):
            getattr(self, f"actions_{i}_owner_agency").choices = [("", "Choose agency")] + [tuple(a) for a in agencies]

    def step_data(self) -> dict:
        rows = []
        for i in range(ACTION_ROWS):
            agency, text = getattr(self, f"actions_{i}_owner_agency").data, getattr(self, f"actions_{i}_text").data
            owner = (getattr(self, f"actions_{i}_owner").data or "").strip()
            due: date | None = getattr(self, f"actions_{i}_due_on").data
            if agency or (text or "").strip() or owner or due:
                rows.append({"owner_agency": agency or None, "owner": owner, "text": text or "",
                             "due_on": due.isoformat() if due else None})
        return {"actions": rows}

    def apply_errors(self, errors: dict[str, str]) -> None:
        """Show the engine's errors; a due date left blank is asked for in the date boxes' terms, not the API's."""
        errors = dict(errors)
        for i in range(ACTION_ROWS):
            key = f"actions.{i}.due_on"
            if key in errors and getattr(self, f"actions_{i}_due_on").data is None:
                errors[key] = f"Enter the date action {i + 1} is due"
        super().apply_errors(errors)


for _i in range(ACTION_ROWS):
    setattr(ActionsForm, f"actions_{_i}_owner_agency",
            SelectField(f"Action {_i + 1}: owning agency", widget=GovSelect(), validators=[Optional()]))
    setattr(ActionsForm, f"actions_{_i}_owner",
            StringField(f"Action {_i + 1}: owner (optional)", widget=GovTextInput(),
                        description="The person in that agency who will do it",
                        validators=[Optional(), Length(max=200)]))
    setattr(ActionsForm, f"actions_{_i}_text",
            TextAreaField(f"Action {_i + 1}: what will be done", widget=GovTextArea(),
                          validators=[Optional(), Length(max=2000)]))
    setattr(ActionsForm, f"actions_{_i}_due_on",
            DateField(f"Action {_i + 1}: due date", widget=GovDateInput(), format="%d %m %Y",
                      description="On or after the meeting, for example 27 3 2026", validators=[Optional()]))

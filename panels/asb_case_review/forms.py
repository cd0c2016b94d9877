"""ASB case review page forms: the application with its earlier complaints, the threshold decision, the meeting."""
from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxInput, GovRadioInput
from wtforms import BooleanField, RadioField
from wtforms.validators import InputRequired

from panels.asb_case_review import settings
from panels.asb_case_review.models import APPLICANT_KINDS, DISCRETION_GROUNDS
from panels.kit import (
    ActionsForm,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
    IntakeForm,
    Length,
    ListForm,
    Optional,
    StepForm,
    StringField,
    SubmitField,
    TextAreaField,
    past_date_field,
)

COMPLAINT_ROWS = 6
YES_NO = {"yes": "Yes", "no": "No"}


class ApplicationForm(IntakeForm):
    panel = "asb_case_review"
    referred_on = past_date_field("Date of the application", required=True)
    applicant_kind = RadioField("Who is affected by the behaviour?", widget=GovRadioInput(), choices=APPLICANT_KINDS,
                                validators=[InputRequired("Choose who is affected by the behaviour")])
    on_behalf = RadioField("Is someone applying on the victim's behalf?", widget=GovRadioInput(), choices=YES_NO,
                           description="For example a family member, carer, councillor or MP",
                           validators=[InputRequired("Say whether someone is applying on the victim's behalf")])
    consent_recorded = BooleanField("The victim has consented to this application being made for them",
                                    widget=GovCheckboxInput())
    submit = SubmitField("Submit application", widget=GovSubmitInput())

    ALIASES = {
        **IntakeForm.ALIASES,
        "details.applicant.consent_recorded": "consent_recorded", "details.complaints": "complaints_0_incident_on",
        **{f"details.complaints.{i}.{part}": f"complaints_{i}_{part}" for i in range(COMPLAINT_ROWS)
           for part in ("incident_on", "reported_on", "agency", "reference")},
    }

    def rows(self):
        """The complaint rows' fields, row by row."""
        return [[getattr(self, f"complaints_{i}_{part}") for part in ("incident_on", "reported_on", "agency",
                                                                      "reference")] for i in range(COMPLAINT_ROWS)]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for n, (incident, reported, agency, _) in enumerate(self.rows(), start=1):
            started = incident.data or reported.data or (agency.data or "").strip()
            # Each message names its complaint: the error summary lists them apart from their rows.
            for field, message in ((incident, f"Enter when the behaviour in complaint {n} happened"),
                                   (reported, f"Enter when complaint {n} was reported"),
                                   (agency, f"Enter the agency complaint {n} was reported to")):
                if started and not field.data and not field.errors:
                    field.errors = [*field.errors, message]
                    ok = False
        return ok

    def details(self) -> dict:
        complaints = []
        for incident, reported, agency, reference in self.rows():
            if incident.data and reported.data and agency.data:
                complaint = {"incident_on": incident.data.isoformat(), "reported_on": reported.data.isoformat(),
                             "agency": agency.data}
                if reference.data:
                    complaint["reference"] = reference.data
                complaints.append(complaint)
        return {"applicant": {"kind": self.applicant_kind.data, "on_behalf": self.on_behalf.data == "yes",
                              "consent_recorded": bool(self.consent_recorded.data)},
                "complaints": complaints}


for _i in range(COMPLAINT_ROWS):
    setattr(ApplicationForm, f"complaints_{_i}_incident_on",
            past_date_field(f"Complaint {_i + 1}: date of the behaviour", required=False))
    setattr(ApplicationForm, f"complaints_{_i}_reported_on",
            past_date_field(f"Complaint {_i + 1}: date reported", required=False))
    setattr(ApplicationForm, f"complaints_{_i}_agency",
            StringField(f"Complaint {_i + 1}: agency it was reported to", widget=GovTextInput(),
                        validators=[Optional(), Length(max=120)]))
    setattr(ApplicationForm, f"complaints_{_i}_reference",
            StringField(f"Complaint {_i + 1}: that agency's reference (if known)", widget=GovTextInput(),
                        validators=[Optional(), Length(max=60)]))


class DecisionForm(StepForm):
    """A threshold decision: its reason goes, in the coordinator's words, into the letter to the applicant."""

    reason = TextAreaField("Reason", widget=GovTextArea(),
                           description="This goes into the decision letter to the applicant, as you write it.",
                           validators=[Optional(), Length(max=5000)])


class ThresholdMetForm(DecisionForm):
    ground = RadioField("On what ground is the threshold met?", widget=GovRadioInput(), choices=DISCRETION_GROUNDS,
                        validators=[Optional()])

    def prepare(self, case) -> None:
        """Ask for a ground only when too few complaints qualify (s104): met on the count, there is none to choose."""
        found, needed = case.qualifying_complaints, settings.qualifying_complaints(case)
        counted = f"{found} complaint{' qualifies' if found == 1 else 's qualify'}, and the threshold needs {needed}"
        if case.met_on_count:
            del self.ground
            self.intro = f"{counted}: the threshold is met on the count."
        else:
            self.ground.description = f"Only {counted}. The threshold can still be met on one of these grounds."

    def step_data(self) -> dict:
        return {"ground": self.ground.data} if self.ground is not None and self.ground.data else {}


class ReviewMeetingForm(StepForm):
    applicant_attended = RadioField("Did the applicant attend the meeting?", widget=GovRadioInput(), choices=YES_NO,
                                    validators=[InputRequired("Say whether the applicant attended")])
    applicant_views = TextAreaField("The applicant's views", widget=GovTextArea(),
                                    description="What the applicant told the meeting, in person or beforehand",
                                    validators=[Optional(), Length(max=5000)])

    def step_data(self) -> dict:
        return {"applicant_attended": self.applicant_attended.data == "yes",
                "applicant_views": self.applicant_views.data or ""}


STEP_FORMS = {"decide_met": ThresholdMetForm, "decide_not_met": DecisionForm, "overturn_decision": DecisionForm,
              "list": ListForm, "review": ReviewMeetingForm, "agree_outcome": ActionsForm}

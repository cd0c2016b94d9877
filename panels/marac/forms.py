"""MARAC page forms: the referral with its DASH checklist (listing and actions are the shared meeting forms)."""
from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput
from wtforms import IntegerField, RadioField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange

from panels.kit import (
    ActionsForm,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
    IntakeForm,
    Length,
    ListForm,
    Optional,
    StringField,
    SubmitField,
    TextAreaField,
    past_date_field,
)
from panels.marac import dash
from panels.marac.models import ROUTES


class ReferralForm(IntakeForm):
    panel = "marac"
    safe_contact = TextAreaField("Safe contact details", widget=GovTextArea(),
                                 description="How and when the victim can be contacted safely",
                                 validators=[Optional(), Length(max=500)])
    children_in_household = IntegerField("Number of children in the household", widget=GovTextInput(), default=0,
                                         validators=[InputRequired("Enter the number of children (0 if none)"),
                                                     NumberRange(0, 30, "Enter a number from 0 to 30")])
    perpetrator_forename = StringField("First name", widget=GovTextInput(), validators=[Optional(), Length(max=100)])
    perpetrator_surname = StringField("Last name", widget=GovTextInput(), validators=[Optional(), Length(max=100)])
    perpetrator_date_of_birth = past_date_field("Date of birth (if known)", required=False)
    routes = SelectMultipleField("Referral routes", widget=GovCheckboxesInput(), choices=dict(ROUTES),
                                 description="Select all that apply. A repeat is detected for you.",
                                 validators=[Optional()])
    professional_judgement_reasons = TextAreaField(
        "Reasons for professional judgement", widget=GovTextArea(),
        description="Required when you refer on professional judgement",
        validators=[Optional(), Length(max=5000)])
    incidents_last_12_months = IntegerField("Incidents in the last 12 months", widget=GovTextInput(),
                                            validators=[Optional(), NumberRange(0, 1000, "Enter 0 to 1000")])
    submit = SubmitField("Submit referral", widget=GovSubmitInput())

    #: Service-layer error keys that do not follow the "a.b" -> "a_b" rule.
    ALIASES = {
        **IntakeForm.ALIASES,
        "details.perpetrator.forename": "perpetrator_forename",
        "details.perpetrator.surname": "perpetrator_surname",
        "details.perpetrator.date_of_birth": "perpetrator_date_of_birth",
        **{f"details.dash.{k}": k for k in dash.KEYS},
    }

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        has_first, has_last = bool(self.perpetrator_forename.data), bool(self.perpetrator_surname.data)
        if has_first != has_last:
            missing = self.perpetrator_surname if has_first else self.perpetrator_forename
            missing.errors = [*missing.errors, "Enter both names of the perpetrator, or neither"]
            ok = False
        return ok

    def details(self) -> dict:
        details = {
            "dash": {k: getattr(self, k).data for k in dash.KEYS},
            "routes": list(self.routes.data or []),
            "children_in_household": self.children_in_household.data,
            "professional_judgement_reasons": self.professional_judgement_reasons.data or "",
            "safe_contact": self.safe_contact.data or "",
        }
        if self.incidents_last_12_months.data is not None:
            details["incidents_last_12_months"] = self.incidents_last_12_months.data
        if self.perpetrator_forename.data:
            details["perpetrator"] = {"forename": self.perpetrator_forename.data,
                                      "surname": self.perpetrator_surname.data}
            if self.perpetrator_date_of_birth.data:
                details["perpetrator"]["date_of_birth"] = self.perpetrator_date_of_birth.data.isoformat()
        return details


for _number, (_key, _question) in enumerate(zip(dash.KEYS, dash.QUESTIONS, strict=True), start=1):
    setattr(ReferralForm, _key, RadioField(
        f"{_number}. {_question}", widget=GovRadioInput(), choices=dict(dash.ANSWERS),
        validators=[InputRequired(f"Answer question {_number}")]))


STEP_FORMS = {"list": ListForm, "hear": ActionsForm, "triage_actions_only": ActionsForm}

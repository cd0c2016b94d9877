"""MARAC page forms: the referral with its DASH checklist (listing and actions are the shared meeting forms)."""
from __future__ import annotations

from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput
from wtforms import IntegerField, RadioField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange

from app.meetings.forms import ActionsForm, ListForm
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
from panels.marac import dash
from panels.marac.models import ROUTES


class ReferralForm(FlaskForm):
    referred_on = past_date_field("Date of referral", required=True)
    victim_forename = StringField("First name", widget=GovTextInput(),
                                  validators=[InputRequired("Enter the victim's first name"), Length(max=100)])
    victim_surname = StringField("Last name", widget=GovTextInput(),
                                 validators=[InputRequired("Enter the victim's last name"), Length(max=100)])
    victim_date_of_birth = past_date_field("Date of birth", required=True)
    victim_address = TextAreaField("Address", widget=GovTextArea(), validators=[Optional(), Length(max=500)])
    safe_contact = TextAreaField("Safe contact details", widget=GovTextArea(),
                                 description="How and when the victim can be contacted safely",
                                 validators=[Optional(), Length(max=500)])
    perpetrator_forename = StringField("First name", widget=GovTextInput(), validators=[Optional(), Length(max=100)])
    perpetrator_surname = StringField("Last name", widget=GovTextInput(), validators=[Optional(), Length(max=100)])
    perpetrator_date_of_birth = past_date_field("Date of birth (if known)", required=False)
    children_in_household = IntegerField("Number of children in the household", widget=GovTextInput(), default=0,
                                         validators=[InputRequired("Enter the number of children (0 if none)"),
                                                     NumberRange(0, 30, "Enter a number from 0 to 30")])
    neighbourhood = StringField("Neighbourhood", widget=GovTextInput(), validators=[Optional(), Length(max=80)])
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
        "subject.forename": "victim_forename", "subject.surname": "victim_surname",
        "subject.date_of_birth": "victim_date_of_birth", "subject.address": "victim_address",
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

    def payload(self) -> dict:
        """The referral in the API's shape, so both go through one intake."""
        subject = {"forename": self.victim_forename.data, "surname": self.victim_surname.data,
                   "date_of_birth": self.victim_date_of_birth.data.isoformat()}
        if self.victim_address.data:
            subject["address"] = self.victim_address.data
        details = {
            "dash": {k: getattr(self, k).data for k in dash.KEYS},
            "routes": list(self.routes.data or []),
            "children_in_household": self.children_in_household.data,
            "neighbourhood": self.neighbourhood.data or "",
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
        return {"panel": "marac", "referred_on": self.referred_on.data.isoformat(), "subject": subject,
                "details": details}


for _number, (_key, _question) in enumerate(zip(dash.KEYS, dash.QUESTIONS, strict=True), start=1):
    setattr(ReferralForm, _key, RadioField(
        f"{_number}. {_question}", widget=GovRadioInput(), choices=dict(dash.ANSWERS),
        validators=[InputRequired(f"Answer question {_number}")]))


STEP_FORMS = {"list": ListForm, "hear": ActionsForm, "triage_actions_only": ActionsForm}

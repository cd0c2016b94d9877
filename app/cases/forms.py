"""The case pages' forms: a referral's person (each panel's referral form builds on it), a workflow step (panels
subclass it for steps that need more), and agency research."""
from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import InputRequired

from app.cases.schema import BACKDATING_REASON_MAX
from app.cases.services import RESEARCH_MAX
from app.web.forms import (
    DateField,
    FlaskForm,
    GovDateInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
    Length,
    Optional,
    StringField,
    SubmitField,
    TextAreaField,
    past_date_field,
    show_errors,
)


class IntakeForm(FlaskForm):
    """What every panel's referral form asks about the person it is for, and where they live; the panel adds its
    own fields, the date's label (``referred_on``) and ``details()``, and both go through one intake as the API's
    body (app.cases.services.refer)."""

    #: The panel the form refers to.
    panel = ""
    referred_on = past_date_field("Date of referral", required=True)
    backdating_reason = TextAreaField("If the referral is dated more than a few weeks ago, say why",
                                      widget=GovTextArea(), validators=[Optional(), Length(max=BACKDATING_REASON_MAX)],
                                      description="For example, a paper referral typed in late. The panel's "
                                                  "coordinator sees this.")
    victim_forename = StringField("First name", widget=GovTextInput(),
                                  validators=[InputRequired("Enter the victim's first name"), Length(max=100)])
    victim_surname = StringField("Last name", widget=GovTextInput(),
                                 validators=[InputRequired("Enter the victim's last name"), Length(max=100)])
    victim_date_of_birth = past_date_field("Date of birth", required=True)
    victim_address = TextAreaField("Address", widget=GovTextArea(), validators=[Optional(), Length(max=500)])
    neighbourhood = StringField("Neighbourhood", widget=GovTextInput(), validators=[Optional(), Length(max=80)])

    #: The service's error keys shown on fields whose names do not follow the "a.b" -> "a_b" rule; panels add theirs.
    ALIASES = {"subject.forename": "victim_forename", "subject.surname": "victim_surname",
               "subject.date_of_birth": "victim_date_of_birth", "subject.address": "victim_address",
               "details.neighbourhood": "neighbourhood"}

    def details(self) -> dict:
        """The panel's "details" of the body."""
        raise NotImplementedError

    def payload(self) -> dict:
        """The referral in the API's shape."""
        subject = {"forename": self.victim_forename.data, "surname": self.victim_surname.data,
                   "date_of_birth": self.victim_date_of_birth.data.isoformat()}
        if self.victim_address.data:
            subject["address"] = self.victim_address.data
        body = {"panel": self.panel, "referred_on": self.referred_on.data.isoformat(), "subject": subject,
                "details": {**self.details(), "neighbourhood": self.neighbourhood.data or ""}}
        if (self.backdating_reason.data or "").strip():
            body["backdating_reason"] = self.backdating_reason.data
        return body


class StepForm(FlaskForm):
    """What every step asks for; panels subclass it for steps that need more."""

    version = HiddenField()
    occurred_on = DateField("Date it happened", widget=GovDateInput(), format="%d %m %Y", validators=[Optional()],
                            description="For example, 27 3 2026. Leave blank for today.")
    reason = TextAreaField("Reason", widget=GovTextArea(), validators=[Optional(), Length(max=5000)])
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def step_data(self) -> dict:
        """The step's own data for the engine (none for a plain step)."""
        return {}

    def apply_errors(self, errors: dict[str, str]) -> None:
        """Show the engine's field errors ("actions.0.text") on this form's fields ("actions_0_text")."""
        show_errors(self, errors)


class ResearchForm(FlaskForm):
    text = TextAreaField("What your agency's records show", widget=GovTextArea(),
                         description="Facts and their sources first, then your agency's view of the risk.",
                         validators=[InputRequired("Enter what your agency's records show"),
                                     Length(max=RESEARCH_MAX)])
    submit = SubmitField("Add research", widget=GovSubmitInput())

"""The case pages' forms: a workflow step (panels subclass it for steps that need more), and agency research."""
from __future__ import annotations

from wtforms import HiddenField
from wtforms.validators import InputRequired

from app.cases.services import RESEARCH_MAX
from app.web.forms import (
    DateField,
    FlaskForm,
    GovDateInput,
    GovSubmitInput,
    GovTextArea,
    Length,
    Optional,
    SubmitField,
    TextAreaField,
    show_errors,
)


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

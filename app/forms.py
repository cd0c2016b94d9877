"""Shared form pieces: GOV.UK widgets and validators used by every blueprint."""
from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovDateInput,
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import DateField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from app.timeutil import today

TEXT_MAX = 200
NARRATIVE_MAX = 5000

__all__ = ["DataRequired", "DateField", "Email", "FlaskForm", "GovDateInput", "GovPasswordInput", "GovSelect",
           "GovSubmitInput", "GovTextArea", "GovTextInput", "InputRequired", "Length", "Optional", "PasswordField",
           "SelectField", "StringField", "SubmitField", "TextAreaField", "ValidationError", "not_in_future"]


def not_in_future(form, field) -> None:
    if field.data and field.data > today():
        raise ValidationError(f"{field.label.text} must be today or in the past")

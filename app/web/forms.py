"""Shared form pieces: GOV.UK widgets and validators used by every blueprint."""
from __future__ import annotations

from flask_wtf import FlaskForm as _FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput as _GovDateInput
from govuk_frontend_wtf.wtforms_widgets import (
    GovPasswordInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import DateField, PasswordField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, ValidationError

from app.core.timeutil import today

TEXT_MAX = 200
NARRATIVE_MAX = 5000
NUL_MESSAGE = "Remove the NUL character from this answer"

__all__ = ["NUL_MESSAGE", "DataRequired", "DateField", "Email", "FlaskForm", "GovDateInput", "GovPasswordInput",
           "GovSelect", "GovSubmitInput", "GovTextArea", "GovTextInput", "InputRequired", "Length", "Optional",
           "PasswordField", "SelectField", "StringField", "SubmitField", "TextAreaField", "ValidationError",
           "error_links", "form_error_links", "not_in_future", "past_date_field", "show_errors"]


class FlaskForm(_FlaskForm):
    """Every page's form: refuses NUL characters, which no person types and PostgreSQL cannot store or compare."""

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        for field in self:
            if any(isinstance(value, str) and "\x00" in value for value in field.raw_data or ()):
                field.errors = [*field.errors, NUL_MESSAGE]
                ok = False
        return ok


class GovDateInput(_GovDateInput):
    """The GOV.UK date input, re-rendering any submission: a crafted POST may send fewer or more than 3 boxes."""

    def map_gov_params(self, field, **kwargs):
        if field.raw_data is not None and len(field.raw_data) != 3:
            # The upstream widget unpacks exactly (day, month, year) and would raise: show blank boxes instead.
            field.raw_data = (list(field.raw_data) + ["", "", ""])[:3]
        return super().map_gov_params(field, **kwargs)


def past_date_field(label: str, *, required: bool, hint: str = "For example, 27 3 2026") -> DateField:
    """A GOV.UK date input (day, month, year) for a day that has happened: today or before."""
    checks = [DataRequired(f"Enter {label.lower()} as day, month and year")] if required else [Optional()]
    return DateField(label, widget=GovDateInput(), format="%d %m %Y", description=hint,
                     validators=[*checks, not_in_future])


def not_in_future(form, field) -> None:
    if field.data and field.data > today():
        raise ValidationError(f"{field.label.text} must be today or in the past")


def error_links(errors, anchors: dict[str, str | None] | None = None) -> list[dict]:
    """A GOV.UK error summary's list: each message links to its field's id (``anchors`` maps a key to another id,
    or to None for a problem no one field owns); a plain list of messages links nowhere."""
    if not isinstance(errors, dict):
        return [{"text": message} for message in errors]
    anchors = anchors or {}
    return [{"text": message, **({"href": f"#{anchors.get(key, key)}"} if anchors.get(key, key) else {})}
            for key, message in errors.items()]


def form_error_links(form) -> list[dict]:
    """The error summary's list for a form: each field's first message linked to the box it names (a date's day box,
    as its own id is the boxes' wrapper, which cannot take focus), and the form's own messages, such as a guard's
    sentence, unlinked."""
    items = []
    for name, messages in form.errors.items():
        field = form._fields.get(name) if name else None
        if field is None:
            items += error_links(messages)
        else:
            anchor = f"{field.name}-day" if isinstance(field.widget, _GovDateInput) else field.id
            items += error_links({name: messages[0]}, {name: anchor})
    return items


def show_errors(form, errors: dict[str, str], aliases: dict[str, str] | None = None) -> None:
    """Attach service-layer field errors to a form's fields, or to the form when no field matches."""
    for key, message in errors.items():
        name = (aliases or {}).get(key) or key.replace(".", "_")
        field = form._fields.get(name) or form._fields.get(key.split(".")[-1])
        if field is None:
            form.form_errors.append(message)
        else:
            field.errors = [*list(field.errors or []), message]

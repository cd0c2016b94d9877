"""The settings pages: every local rule with its value now, changes to come, and each setting's history; an
administrator changes one from a date, with the reason, having proved both factors recently."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput
from wtforms import HiddenField, RadioField

from app.auth.reauth import reauthentication_required
from app.core import audit, settings
from app.core.access import actor, policy
from app.core.extensions import db
from app.core.timeutil import today
from app.web.forms import (
    DateField,
    FlaskForm,
    GovDateInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
    InputRequired,
    Length,
    Optional,
    StringField,
    SubmitField,
    TextAreaField,
    show_errors,
)

bp = Blueprint("settings", __name__, url_prefix="/admin/settings")


class ChangeForm(FlaskForm):
    """A change: the new value (its field made for the setting's kind), when it takes effect, and why."""

    version = HiddenField()
    effective_from = DateField("Takes effect from", widget=GovDateInput(), format="%d %m %Y", validators=[Optional()],
                               description="Today or a later date, for example 1 4 2027. Leave blank for today.")
    reason = TextAreaField("Why is it changing?", widget=GovTextArea(),
                           description="Kept with the change: for example the board decision or the guidance.",
                           validators=[InputRequired("Say why the setting is changing"),
                                       Length(max=settings.REASON_MAX)])
    submit = SubmitField("Save the change", widget=GovSubmitInput())


def _value_field(setting: settings.Setting):
    label, hint = "New value", _limits(setting)
    if setting.kind in ("bool", "choice"):
        choices = {"yes": "Yes", "no": "No"} if setting.kind == "bool" else setting.choices
        return RadioField(label, widget=GovRadioInput(), choices=list(choices.items()),
                          validators=[InputRequired("Choose the new value")])
    if setting.kind == "text":
        return TextAreaField(label, widget=GovTextArea(), validators=[Length(max=settings.TEXT_MAX)])
    return StringField(label, widget=GovTextInput(), description=hint, validators=[Length(max=254)])


def _limits(setting: settings.Setting) -> str:
    if setting.kind not in ("int", "optional_int"):
        return ""
    low, high = setting.minimum, setting.maximum
    counted = f"A whole number of {setting.unit}" if setting.unit else "A whole number"
    text = f"{counted}, from {low} to {high}." if high is not None else f"{counted}, {low} or more."
    return text + (" Leave it blank to unset it." if setting.kind == "optional_int" else "")


def _form_text(setting: settings.Setting, value) -> str | None:
    if setting.kind == "bool":
        return "yes" if value else "no"
    return "" if value is None else str(value)


def _change_form(setting: settings.Setting, key: str):
    form_class = type("SettingChangeForm", (ChangeForm,), {"value": _value_field(setting)})
    form = form_class() if request.method == "POST" else form_class(
        data={"value": _form_text(setting, settings.value(key)), "version": settings.current_version(key)})
    return form


def _declared(key: str) -> settings.Setting:
    try:
        return settings.declared(key)
    except (KeyError, StopIteration):
        abort(404)


@bp.get("")
@policy("admin")
def index():
    """List every group of settings with its values in force today and any change to come."""
    day = today()
    rows = [(group, [(s, f"{group.key}.{s.name}", settings.value(f"{group.key}.{s.name}"),
                      settings.pending(f"{group.key}.{s.name}", day)) for s in group.settings])
            for group in settings.groups()]
    return render_template("admin/settings.html", groups=rows)


@bp.route("/<key>", methods=["GET", "POST"])
@policy("admin")
@reauthentication_required
def change(key: str):
    """Show one setting, its history and changes to come; change it from a date, with the reason."""
    declared = _declared(key)
    form = _change_form(declared, key)
    if form.validate_on_submit():
        version = int(form.version.data) if (form.version.data or "").isdigit() else -1
        errors = settings.change(key, declared.parse(form.value.data), effective_from=form.effective_from.data,
                                 reason=form.reason.data, user=actor(), expected_version=version)
        if not errors:
            db.session.commit()
            starts = form.effective_from.data or today()
            flash(f"{declared.label}: {declared.display(declared.parse(form.value.data))}, from "
                  f"{starts.day} {starts:%B %Y}.")
            return redirect(url_for("settings.change", key=key))
        db.session.rollback()
        show_errors(form, errors)
    else:
        audit.record("settings.read", detail=f"key={key}")
        db.session.commit()
    group = settings.group(key.rpartition(".")[0])
    response = render_template("admin/setting.html", key=key, setting=declared, group=group, form=form,
                               value=settings.value(key), history=settings.history(key),
                               pending=settings.pending(key), today=today())
    return response, (422 if form.errors or form.form_errors else 200)

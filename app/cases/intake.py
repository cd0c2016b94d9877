"""The page that takes a referral: the same steps for every panel's own form."""
from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, redirect, render_template, url_for

from app.cases.forms import IntakeForm
from app.cases.services import refer
from app.core.access import actor
from app.core.extensions import db
from app.web.forms import show_errors
from workflows import Invalid


def intake_page(form: IntakeForm, template: str, received: Callable[[object], str], **context):
    """Show the form; when it is sent and valid, make the case (the API's intake) and go to it, saying ``received``.

    What the service refuses is shown on the form's fields, and nothing is saved (422).
    """
    if form.validate_on_submit():
        try:
            case = refer(current_app.extensions["panels"], form.payload(), actor())
            db.session.commit()
            flash(received(case))
            return redirect(url_for("cases.show", case_id=case.id))
        except Invalid as exc:
            db.session.rollback()
            show_errors(form, exc.errors, form.ALIASES)
    status = 422 if form.errors or form.form_errors else 200
    return render_template(template, form=form, **context), status

"""Administration of people's accounts: invite, change role and panel seats, disable, reset a second factor.

Administrators never see a case and never choose a password: new accounts and resets get one-time links, sent by
email to the person (app.admin.invitations), never shown to the administrator.
Changing anyone's access needs the administrator to have proved both factors in the last few minutes.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from govuk_frontend_wtf.wtforms_widgets import GovCheckboxesInput, GovRadioInput
from sqlalchemy import select
from wtforms import RadioField, SelectMultipleField

from app.admin import invitations
from app.auth import accounts, grants, links
from app.auth.forms import ConfirmForm
from app.auth.reauth import reauthentication_required
from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db
from app.core.models import Agency, User
from app.core.roles import roles
from app.web.forms import (
    FlaskForm,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
    InputRequired,
    Length,
    SelectField,
    StringField,
    SubmitField,
    show_errors,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")

APPROVAL_NEEDED = ("This role sees case data or administers the service, so a second administrator must approve it "
                   "at Approvals before it takes effect.")


class RoleForm(FlaskForm):
    role = RadioField("Role", widget=GovRadioInput(), choices=[],
                      validators=[InputRequired("Choose a role")])
    panels = SelectMultipleField("Panels they sit on", widget=GovCheckboxesInput(), choices={},
                                 description="For coordinators and panel members only")
    submit = SubmitField("Save", widget=GovSubmitInput())

    def with_panels(self):
        self.role.choices = [(r.key, r.label) for r in roles()]
        self.panels.choices = [(key, panel.title) for key, panel in current_app.extensions["panels"].items()]
        return self


class InviteForm(RoleForm):
    email = StringField("Email address", widget=GovTextInput(), description="Their work email address",
                        validators=[InputRequired("Enter their email address"), Length(max=254)])
    name = StringField("Full name", widget=GovTextInput(),
                       validators=[InputRequired("Enter their full name"), Length(max=200)])
    agency = SelectField("Agency", widget=GovSelect(), validators=[InputRequired("Choose their agency")])
    submit = SubmitField("Create account", widget=GovSubmitInput())

    def with_agencies(self):
        self.agency.choices = [("", "Choose agency")] + [
            (a.code, a.name) for a in db.session.scalars(select(Agency).order_by(Agency.name))]
        return self.with_panels()


def account_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def refuse_self(user: User) -> None:
    """An administrator cannot change their own access: no one can lock out the last administrator by accident."""
    if user.id == actor().id:
        abort(404)


@bp.get("/users")
@policy("admin")
def users():
    """List every account with its role, agency, status and second factor."""
    people = db.session.scalars(select(User).order_by(User.is_enabled.desc(), User.email)).all()
    audit.record("admin.user_list")
    response = render_template("admin/users.html", people=people)
    db.session.commit()
    return response


@bp.route("/users/new", methods=["GET", "POST"])
@policy("admin")
@reauthentication_required
def new_user():
    """Create an account and email its one-time invitation link (the administrator never sees it)."""
    form = InviteForm().with_agencies()
    if form.validate_on_submit():
        errors = accounts.role_problems(form.role.data, form.panels.data or [])
        if problem := accounts.email_problem(form.email.data):
            errors["email"] = problem
        agency = db.session.scalar(select(Agency).where(Agency.code == form.agency.data))
        if agency is None:
            errors["agency"] = "Choose their agency"
        if not errors:
            user, grant = grants.new_account(form.email.data, form.name.data, agency, form.role.data,
                                             form.panels.data or [], actor())
            audit.record("admin.user_invite", detail=f"user={user.id} role={form.role.data}")
            if grant is None:
                invitations.send_link(user, links.INVITE)
                flash(f"Account created. An invitation has been emailed to {user.email}: the link in it works once.")
            else:
                flash(APPROVAL_NEEDED + " Their invitation is emailed to them when it is approved.")
            db.session.commit()
            return redirect(url_for("admin.user", user_id=user.id))
        show_errors(form, errors)
    return render_template("admin/new_user.html", form=form), (422 if form.errors else 200)


@bp.get("/users/<id:user_id>")
@policy("admin")
def user(user_id: int):
    """Show one account and what can be done to it."""
    person = account_or_404(user_id)
    return render_template("admin/user.html", person=person, form=ConfirmForm(), is_self=person.id == actor().id,
                           pending=grants.pending_for(person), awaiting=grants.AWAITING)


@bp.route("/users/<id:user_id>/role", methods=["GET", "POST"])
@policy("admin")
@reauthentication_required
def role(user_id: int):
    """Change someone's role and panel seats: at once when it gives nothing powerful, else once a second
    administrator approves it (app.auth.grants)."""
    person = account_or_404(user_id)
    refuse_self(person)
    form = RoleForm(data={"role": person.role, "panels": sorted(person.panels_as(person.role))}).with_panels()
    if form.validate_on_submit():
        errors = accounts.role_problems(form.role.data, form.panels.data or [])
        if not errors:
            grant = grants.change_role(person, form.role.data, form.panels.data or [], actor())
            db.session.commit()
            flash(APPROVAL_NEEDED + " Whatever the change took away has gone already." if grant else
                  "Role saved. It applies from their next page.")
            return redirect(url_for("admin.user", user_id=person.id))
        show_errors(form, errors)
    return render_template("admin/role.html", person=person, form=form), (422 if form.errors else 200)


@bp.route("/users/<id:user_id>/<any(disable, enable, reset_second_factor):change>", methods=["GET", "POST"])
@policy("admin")
@reauthentication_required
def confirm(user_id: int, change: str):
    """Ask to confirm a change to someone's access, then make it."""
    person = account_or_404(user_id)
    refuse_self(person)
    title, explanation = accounts.ACCESS_CHANGES[change].title, accounts.ACCESS_CHANGES[change].explanation
    form = ConfirmForm()
    if form.validate_on_submit():
        done = accounts.change_access(person, change)
        db.session.commit()
        flash(done)
        return redirect(url_for("admin.user", user_id=person.id))
    return render_template("admin/confirm.html", person=person, form=form, title=title, explanation=explanation)


@bp.route("/users/<id:user_id>/reset-link", methods=["GET", "POST"])
@policy("admin")
@reauthentication_required
def reset_link(user_id: int):
    """Make a one-time link for someone to choose a new password (their second factor is still needed)."""
    person = account_or_404(user_id)
    refusal = accounts.reset_link_refusal(person, actor())
    if person.role == grants.AWAITING:
        refusal = "This account's role is waiting for a second administrator's approval: its invitation is " \
                  "emailed to them when it is approved."
    if refusal:
        return render_template("web/error.html", status=403, title="Another administrator must do this",
                               message=refusal), 403
    form = ConfirmForm()
    if form.validate_on_submit():
        invitations.send_link(person, links.RESET)
        audit.record("admin.reset_link", detail=f"user={person.id}")
        db.session.commit()
        flash(f"A password reset link has been emailed to {person.email}.")
        return redirect(url_for("admin.user", user_id=person.id))
    return render_template("admin/confirm.html", person=person, form=form, title="Send a password reset link",
                           explanation="A link is emailed to them (you do not see it). It works once, within "
                                       f"{current_app.config['RESET_LINK_HOURS']} hours. Their old password "
                                       "keeps working until they use it, and they still need their second factor.")

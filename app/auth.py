"""Sign-in and sign-out."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user
from sqlalchemy import func, select

from app import audit
from app.access import actor, policy
from app.extensions import db, login_manager
from app.forms import (
    FlaskForm,
    GovPasswordInput,
    GovSubmitInput,
    GovTextInput,
    InputRequired,
    Length,
    PasswordField,
    StringField,
    SubmitField,
)
from app.models import User
from app.passwords import verify_password

bp = Blueprint("auth", __name__)


class SignInForm(FlaskForm):
    email = StringField("Email address", widget=GovTextInput(),
                        validators=[InputRequired("Enter your email address"), Length(max=254)])
    password = PasswordField("Password", widget=GovPasswordInput(),
                             validators=[InputRequired("Enter your password"), Length(max=256)])
    submit = SubmitField("Sign in", widget=GovSubmitInput())


@login_manager.user_loader
def load_user(user_key: str) -> User | None:
    """Restore the signed-in user; a stale session version means the session was revoked."""
    user_id, _, version = user_key.partition(":")
    if not user_id.isdigit() or not version.isdigit() or int(user_id) >= 2**31:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc and target.startswith("/") else None


@bp.route("/sign-in", methods=["GET", "POST"])
@policy("public")
def login():
    """Sign a person in with their email address and password."""
    form = SignInForm()
    if form.validate_on_submit():
        user = find_user(form.email.data)
        candidate = user if user is not None and user.is_active else None
        if verify_password(candidate, form.password.data):  # unknown users cost the same hash
            session.clear()
            login_user(user)
            audit.record("auth.sign_in", user=user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("cases.index"))
        audit.record("auth.sign_in_failed", user=user)
        db.session.commit()
        form.password.errors = ["Enter a correct email address and password"]
    return render_template("auth/login.html", form=form), (422 if form.errors else 200)


@bp.post("/sign-out")
@policy("signed_in")
def logout():
    """Sign out and revoke every copy of this session."""
    user = actor()
    user.session_version += 1
    audit.record("auth.sign_out", user=user)
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))

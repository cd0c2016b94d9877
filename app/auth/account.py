"""The person's own account: their sessions, password, authenticator app and recovery codes."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import delete, select

from app.auth import second_factor as totp
from app.auth import sessions, throttle
from app.auth.forms import ChangePasswordForm, CodeForm, ConfirmForm
from app.auth.models import SIGNED_IN, UserSession
from app.auth.passwords import context_of, hash_password, password_problem, verify_password
from app.auth.reauth import reauthentication_required
from app.auth.throttle import guarded
from app.auth.views import WRONG_CODE, set_up_page
from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.get("")
@policy("signed_in")
def index():
    """Show the person's account, where they are signed in, and what they can change."""
    user = actor()
    here = sessions.current()
    live = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id, UserSession.stage == SIGNED_IN)
                              .order_by(UserSession.last_seen_at.desc())).all()
    return render_template("account/index.html", user=user, live=live, here=here, form=ConfirmForm(),
                           recovery_codes_left=totp.recovery_codes_left(user))


@bp.post("/sessions/end-others")
@policy("signed_in")
def end_other_sessions():
    """Sign out of every other browser."""
    user, here = actor(), sessions.current()
    ended = db.session.execute(delete(UserSession).where(UserSession.user_id == user.id,
                                                         UserSession.id != here.id)).rowcount or 0
    audit.record("auth.sessions_ended", user=user, detail=f"count={ended}")
    db.session.commit()
    flash(f"Signed out of {ended} other session{'s' if ended != 1 else ''}.")
    return redirect(url_for("account.index"))


@bp.route("/password", methods=["GET", "POST"])
@policy("signed_in")
def password():
    """Change the password: the current one first; afterwards every other session ends."""
    user = actor()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not guarded(user, lambda: verify_password(user, form.current.data), failure="auth.password_change_failed",
                       counters=throttle.password_check_counters(user)):
            form.current.errors = ["Enter your correct current password"]
        elif problem := password_problem(form.password.data, context_of(user)):
            form.password.errors = [problem]
        else:
            user.password_hash = hash_password(form.password.data)
            sessions.renew(user)
            audit.record("auth.password_changed", user=user)
            db.session.commit()
            flash("Your password is changed. You have been signed out everywhere else.")
            return redirect(url_for("account.index"))
    return render_template("account/password.html", form=form), (422 if form.errors else 200)


@bp.route("/authenticator", methods=["GET", "POST"])
@policy("signed_in")
@reauthentication_required
def authenticator():
    """Move the second factor to a new authenticator app (for example a new phone)."""
    user = actor()
    form = CodeForm()
    row = sessions.current()
    if form.validate_on_submit():
        codes = guarded(user, lambda: totp.confirm_enrolment(user, row, form.code.data), detail="enrolment")
        if codes:
            sessions.renew(user)
            audit.record("auth.second_factor_enrolled", user=user, detail="replaced")
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, target=url_for("account.index"))
        form.code.errors = [WRONG_CODE]
    return set_up_page(form, "account/authenticator.html")


@bp.route("/recovery-codes", methods=["GET", "POST"])
@policy("signed_in")
@reauthentication_required
def recovery_codes():
    """Make a new set of recovery codes; the old ones stop working."""
    user = actor()
    form = ConfirmForm()
    if form.validate_on_submit():
        codes = totp.new_recovery_codes(user)
        audit.record("auth.recovery_codes_replaced", user=user)
        db.session.commit()
        return render_template("auth/recovery_codes.html", codes=codes, target=url_for("account.index"))
    return render_template("account/recovery_codes.html", form=form, left=totp.recovery_codes_left(user))


"""Signing in (password, then the second factor), signing out, re-authenticating, and one-time password links."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from sqlalchemy import func, select

from app.auth import links, sessions, throttle
from app.auth import second_factor as totp
from app.auth.forms import (
    CodeForm,
    LinkCodeForm,
    NewPasswordForm,
    ReauthenticateForm,
    RecoveryCodeForm,
    SignInForm,
)
from app.auth.models import ENROL, SECOND_FACTOR, SIGNED_IN
from app.auth.passwords import context_of, hash_password, password_problem, verify_password
from app.auth.throttle import Throttled, guarded
from app.core import audit
from app.core.access import actor, policy
from app.core.extensions import db
from app.core.models import User
from app.core.timeutil import utcnow

bp = Blueprint("auth", __name__)

AFTER_SIGN_IN = "after_sign_in"
LINK_ENTRY = "account_link"
BAD_SIGN_IN = "Enter a correct email address and password"
WRONG_CODE = "The code is not right, or it has been used already. Wait for your app to show a new code, then enter it"


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def safe_next(target: str | None) -> str | None:
    """A local path to return to after signing in; anything else (another site, a scheme) is dropped."""
    if not target or not isinstance(target, str):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.app_errorhandler(Throttled)
def throttled(exc: Throttled):
    """The answer to an attempt over its limit: the same for every account, known or not."""
    db.session.rollback()
    audit.record("auth.throttled", user=exc.user)
    db.session.commit()
    minutes = max(1, -(-exc.wait_seconds // 60))
    return render_template("web/error.html", status=429, title="Too many attempts",
                           message=f"There have been too many attempts to sign in. Wait {minutes} "
                                   f"minute{'s' if minutes != 1 else ''}, then try again."), 429


def pending_user() -> User:
    """The person half-way through signing in (the route policy has checked there is one)."""
    return sessions.current().user


def sign_in_complete(user: User):
    """Both factors proved: a new session id for the signed-in session, then on to where they were going."""
    target = safe_next(session.get(AFTER_SIGN_IN))
    sessions.start(user, SIGNED_IN)
    user.last_signed_in_at = utcnow()
    audit.record("auth.sign_in", user=user)
    db.session.commit()
    return target or url_for("index")


# --- the password ----------------------------------------------------------------------------------------------

@bp.route("/sign-in", methods=["GET", "POST"])
@policy("public")
def login():
    """Sign in, step 1: email address and password."""
    if actor() is not None:
        return redirect(url_for("index"))
    form = SignInForm()
    if form.validate_on_submit():
        counters = throttle.password_counters(form.email.data)
        throttle.claim(counters)
        user = find_user(form.email.data)
        candidate = user if user is not None and user.is_active else None
        if verify_password(candidate, form.password.data):  # an unknown account costs the same hash
            throttle.succeeded(counters)
            target = safe_next(request.args.get("next"))
            sessions.start(user, SECOND_FACTOR if user.has_second_factor else ENROL)
            if target:
                session[AFTER_SIGN_IN] = target
            audit.record("auth.password_accepted", user=user)
            db.session.commit()
            return redirect(url_for("auth.code" if user.has_second_factor else "auth.enrol"))
        audit.record("auth.sign_in_failed", user=candidate)
        db.session.commit()
        form.password.errors = [BAD_SIGN_IN]
    return render_template("auth/login.html", form=form), (422 if form.errors else 200)


# --- the second factor -----------------------------------------------------------------------------------------

@bp.route("/sign-in/code", methods=["GET", "POST"])
@policy("sign_in_pending")
def code():
    """Sign in, step 2: a code from the authenticator app."""
    if sessions.current().stage == ENROL:
        return redirect(url_for("auth.enrol"))
    user = pending_user()
    form = CodeForm()
    if form.validate_on_submit():
        if guarded(user, lambda: totp.verify_code(user, form.code.data)):
            return redirect(sign_in_complete(user))
        form.code.errors = [WRONG_CODE]
    return render_template("auth/code.html", form=form), (422 if form.errors else 200)


@bp.route("/sign-in/recovery-code", methods=["GET", "POST"])
@policy("sign_in_pending")
def recovery_code():
    """Sign in, step 2, without the app: one of the recovery codes."""
    if sessions.current().stage == ENROL:
        return redirect(url_for("auth.enrol"))
    user = pending_user()
    form = RecoveryCodeForm()
    if form.validate_on_submit():
        if guarded(user, lambda: totp.use_recovery_code(user, form.code.data), detail="recovery_code"):
            audit.record("auth.recovery_code_used", user=user)
            target = sign_in_complete(user)
            left = totp.recovery_codes_left(user)
            flash(f"You signed in with a recovery code. You have {left} left"
                  + (". Set up your authenticator app again from Your account." if left <= 3 else "."), "notice")
            return redirect(target)
        form.code.errors = ["That recovery code is not right, or it has been used already"]
    return render_template("auth/recovery_code.html", form=form), (422 if form.errors else 200)


@bp.route("/sign-in/set-up-authenticator", methods=["GET", "POST"])
@policy("sign_in_pending")
def enrol():
    """Sign in, step 2, the first time: set up an authenticator app (every account must have one)."""
    row = sessions.current()
    if row.stage != ENROL:
        return redirect(url_for("auth.code"))
    user = row.user
    if user.has_second_factor:  # set up in another browser since this one gave the password
        sessions.end()
        db.session.commit()
        flash("An authenticator app has been set up for this account. Sign in again with a code from it.", "notice")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        codes = guarded(user, lambda: totp.confirm_enrolment(user, row, form.code.data), detail="enrolment")
        if codes:
            sessions.end_all(user.id)  # any other browser half-way through signing in must start again
            audit.record("auth.second_factor_enrolled", user=user)
            target = sign_in_complete(user)
            return render_template("auth/recovery_codes.html", codes=codes, target=target)
        form.code.errors = [WRONG_CODE]
    return set_up_page(form, "auth/enrol.html")


def set_up_page(form, template: str, **context):
    """The page that shows this browser's secret to set up (as a QR code and as text) and asks for a code."""
    row = sessions.current()
    secret = totp.pending_secret(row)
    db.session.commit()
    uri = totp.provisioning_uri(row.user, secret)
    return render_template(template, form=form, qr=totp.qr_code(uri), secret=totp.grouped(secret),
                           **context), (422 if form.errors else 200)


# --- signing out and proving it again ---------------------------------------------------------------------------

@bp.post("/sign-out")
@policy("public")
def logout():
    """Sign out: the session ends on the server, so a copy of the cookie stops working too."""
    row = sessions.current()
    if row is not None:
        audit.record("auth.sign_out", user=row.user)
    sessions.end()
    db.session.commit()
    flash("You have signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/reauthenticate", methods=["GET", "POST"])
@policy("signed_in")
def reauthenticate():
    """Prove both factors again before an export, a role change or a change to the second factor."""
    row = sessions.current()
    user = row.user
    form = ReauthenticateForm()
    target = safe_next(request.args.get("next")) or url_for("index")
    if form.validate_on_submit():
        proved = guarded(user, lambda: verify_password(user, form.password.data)
                         and totp.verify_code(user, form.code.data), failure="auth.reauthentication_failed")
        if proved:
            sessions.mark_reauthenticated(row)
            audit.record("auth.reauthenticated", user=user)
            db.session.commit()
            return redirect(target)
        form.password.errors = ["Enter your correct password and a new code from your authenticator app"]
    return render_template("auth/reauthenticate.html", form=form), (422 if form.errors else 200)


# --- one-time links to set a password ---------------------------------------------------------------------------

@bp.route("/account/link", methods=["GET", "POST"])
@policy("public")
def open_link():
    """Where an emailed link lands: its token is after "#", so neither this request nor any other carries it in the
    address (access logs, Referer). The page's script puts it into the form; without the script the person pastes
    the code from the email. Opening the page changes nothing (a link on another site must not sign anyone out,
    so the script never sends the form itself); continuing ends any session this browser has."""
    form = LinkCodeForm()
    if form.validate_on_submit():
        token = form.token.data.strip()
        if links.find(token) is None:
            audit.record("auth.link_refused")
            db.session.commit()
            form.token.errors = ["That code is not right, or its link has expired or been used. Links work once, "
                                 "for a short time: ask your administrator for a new one"]
        else:
            sessions.end()
            db.session.commit()
            session[LINK_ENTRY] = token
            return redirect(url_for("auth.set_password"))
    return render_template("auth/open_link.html", form=form), (422 if form.errors else 200)


@bp.get("/account/set-password/<path:token>")
@policy("public")
def old_link(token: str):
    """A link of the old kind, its token in the address: never accepted. Whoever sent it sent the token into access
    logs, so a link that still works is cancelled here and the person asks for a new one."""
    link = links.find(token)
    if link is not None:
        links.spend(link)
        audit.record("auth.link_exposed", user=link.user, detail=f"link={link.purpose}")
    db.session.commit()
    return render_template("web/error.html", status=404, title="This link no longer works",
                           message="Links to set a password now come by email, and open a page that asks for "
                                   "their code. Ask your administrator to send you a new one."), 404


@bp.route("/account/set-password", methods=["GET", "POST"])
@policy("public")
def set_password():
    """Choose a password through an invitation or reset link. Someone with a second factor must give a code too."""
    link = links.find(session.get(LINK_ENTRY))
    if link is None:
        if LINK_ENTRY in session:  # a link was used (not merely this address visited): worth recording
            audit.record("auth.link_refused")
            db.session.commit()
        return render_template("web/error.html", status=410, title="This link has expired or been used",
                               message="Links to set a password work once, for a short time. Ask your "
                                       "administrator for a new one."), 410
    user = link.user
    form = NewPasswordForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data, context_of(user))
        if problem:
            form.password.errors = [problem]
        elif user.has_second_factor and not _second_factor_given(user, form.code):
            pass
        elif not links.spend(link):
            db.session.rollback()
            return redirect(url_for("auth.set_password"))  # used by another request a moment ago: now refused
        else:
            user.password_hash = hash_password(form.password.data)
            sessions.end_all(user.id)
            audit.record("auth.password_set", user=user, detail=f"link={link.purpose}")
            db.session.commit()
            session.pop(LINK_ENTRY, None)
            flash("Your password is set. Sign in with it"
                  + (" and a code from your authenticator app." if user.has_second_factor else
                     ". You will then set up an authenticator app."))
            return redirect(url_for("auth.login"))
    return render_template("auth/set_password.html", form=form, user=user, link=link), \
        (422 if form.errors else 200)


def _second_factor_given(user: User, field) -> bool:
    """Check the code or recovery code typed into a field, throttled like sign-in; put the error on the field."""
    if not (field.data or "").strip():
        field.errors = ["Enter a code from your authenticator app, or one of your recovery codes"]
        return False
    if guarded(user, lambda: totp.verify_code(user, field.data) or totp.use_recovery_code(user, field.data),
               detail="password_link"):
        return True
    field.errors = ["That code is not right, or it has been used already"]
    return False

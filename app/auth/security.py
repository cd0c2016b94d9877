"""Per-request security: the route policy check, the acting user, and response headers."""
from __future__ import annotations

from flask import abort, current_app, flash, g, jsonify, redirect, request, url_for
from flask_wtf.csrf import CSRFError

from app.auth import sessions
from app.auth.models import SIGNED_IN
from app.auth.views import safe_next
from app.core import audit
from app.core.access import allows, policy_of
from app.core.extensions import db, login_manager
from app.web.errors import respond

#: Why a session ended on its own, as the sign-in page says it.
WHY_ENDED = {
    sessions.ENDED_IDLE: "You were signed out because you had done nothing for a while.",
    sessions.ENDED_ABSOLUTE: "You were signed out because you had been signed in for the longest time allowed.",
    sessions.ENDED_ELSEWHERE: "Your session ended.",
}
#: What the sign-in page says when a session ended on its own.
SESSION_ENDED = {why: f"{sentence} Sign in again to carry on." for why, sentence in WHY_ENDED.items()}
#: What it adds when the session ended as a form was sent: nothing typed into it was kept.
NOT_SAVED = "What you entered was not saved. Sign in again to go back to the page, then enter it again."
#: ... or when the form's address shows no page to go back to (the form was part of another page).
NOT_SAVED_ELSEWHERE = "What you entered was not saved. Sign in again, then enter it again."


def init_app(app) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # sessions are bound to the browser server-side (app.auth.sessions)
    login_manager.request_loader(lambda request: sessions.signed_in_user())
    app.before_request(enforce_route_policy)
    app.after_request(security_headers)
    app.register_error_handler(CSRFError, csrf_refused)


def csrf_refused(exc):
    """A form without this service's token: refused and audited, with whoever is signed in."""
    db.session.rollback()
    # CSRFProtect checks before the route policy has named the actor: find who is signed in, if anyone.
    audit.record("security.csrf_refused", detail=f"endpoint={request.endpoint}",
                 user=g.get("actor") or sessions.signed_in_user())
    db.session.commit()
    return respond(400, "The form had expired or was not sent from this service. Go back and try again.")


def enforce_route_policy():
    """Refuse any request whose view declares no policy, or whose user the policy does not admit."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None:
        return None  # Flask answers 404/405 itself
    name = policy_of(view)
    if name is None:
        abort(404)
    if name == "static":
        return None  # a stylesheet, script or font: nobody's session needs reading for it
    is_api = request.blueprint == "api"
    g.channel = "api" if is_api else "web"
    if is_api:
        refused = _authenticate_token(view, name)
        if refused is not None:
            return refused
        user = g.actor
    else:
        user = sessions.signed_in_user()
        g.actor = user
    if name == "public":
        return None
    if name == "sign_in_pending":
        row = sessions.current()
        if row is None or row.stage == SIGNED_IN:
            return _to_sign_in(pending=True)
        return None
    if user is None:
        if is_api:
            return jsonify({"error": "unauthorised", "message": "Send a valid bearer token."}), 401, \
                {"WWW-Authenticate": 'Bearer realm="api"'}
        return _to_sign_in()
    if not allows(name, user):
        # An authorisation failure is audited like load_case's refusals (LG-2), committed before the 404.
        case_id = (request.view_args or {}).get("case_id")
        audit.record("case.denied" if case_id is not None else "route.denied", case_id=case_id, user=user,
                     detail=f"endpoint={request.endpoint}")
        db.session.commit()
        abort(404)
    return None


def _api_error(status: int, error: str, message: str, **headers):
    return jsonify({"error": error, "message": message}), status, headers


def _authenticate_token(view, name: str):
    """Find the request's API token and hold it to its scope and throttle; an answer when it is refused.

    Sets g.actor (its owner) and g.panel_limit (the panels it is limited to). A request with no live token goes on
    as nobody (a public route answers; any other is 401).
    """
    from app.auth import tokens
    from app.auth.settings import requests_per_minute
    from app.auth.throttle import api_request_wait

    row = tokens.presented()
    g.actor = row.user if row is not None else None
    if row is None:
        return None
    g.panel_limit = row.panel_set
    over = api_request_wait(row.id, int(requests_per_minute()))
    if over is not None:
        wait, first = over
        if first:  # once per window: a client hammering on does not fill the audit trail
            audit.record("api.throttled", user=row.user, detail=f"token={row.id}")
            db.session.commit()
        return _api_error(429, "too_many_requests", f"This token has made too many requests. Wait {wait} seconds.",
                          **{"Retry-After": str(wait)})
    if name == "public":
        return None
    refusal = tokens.refusal(row, view, name)
    if refusal is not None:
        audit.record("api.token_refused", user=row.user, detail=f"token={row.id} {refusal.error} "
                                                                 f"endpoint={request.endpoint}")
        db.session.commit()
        return _api_error(refusal.status, refusal.error, refusal.message)
    panel = (request.view_args or {}).get("panel")
    if isinstance(panel, str) and row.panel_set is not None and panel not in row.panel_set:
        audit.record("route.denied", user=row.user, detail=f"endpoint={request.endpoint} token_panels")
        db.session.commit()
        abort(404)
    return None


def _to_sign_in(*, pending: bool = False):
    """Send a browser to sign in, saying why if its session ended, and bringing it back to this page afterwards.

    A form sent after the session ended is not kept: holding what was typed (case data, often) for a browser nobody
    is signed in on would be keeping it for whoever comes next. The notice says plainly that it was not saved, and
    after signing in the person comes back to the form's page when that address shows a page (answers GET), never
    to an address that only takes forms, nor anywhere off this service. A sign-in step that ran out (``pending``)
    just starts signing in again.
    """
    ended = g.get("session_ended")
    reading = request.method in ("GET", "HEAD")
    sent = not reading and not pending
    rule = request.url_rule
    back = None
    if reading or (sent and rule is not None and "GET" in (rule.methods or ())):
        back = safe_next(request.full_path.rstrip("?"))
    if ended and sent:
        flash(f"{WHY_ENDED[ended]} {NOT_SAVED if back else NOT_SAVED_ELSEWHERE}", "notice")
    elif ended:
        flash(SESSION_ENDED[ended], "notice")
    return redirect(url_for("auth.login", next=back))


#: No inline script or style anywhere: every script and stylesheet is a file this service serves (ASVS 3.4.3).
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


def security_headers(response):
    """Every response gets the security headers; everything but the static assets is never stored by a browser or
    proxy, so case data does not linger in caches (ASVS 14.3.2)."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if policy_of(view) != "static":
        response.headers["Cache-Control"] = "no-store"
    return response

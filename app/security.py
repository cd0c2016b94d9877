"""Per-request security: the route policy check, the acting user, and response headers."""
from __future__ import annotations

from flask import abort, current_app, g, jsonify, redirect, request, url_for
from flask_login import current_user

from app import audit
from app.access import allows, policy_of
from app.extensions import db


def init_app(app) -> None:
    app.before_request(enforce_route_policy)
    app.after_request(security_headers)


def enforce_route_policy():
    """Refuse any request whose view declares no policy, or whose user the policy does not admit."""
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if view is None:
        return None  # Flask answers 404/405 itself
    name = policy_of(view)
    if name is None:
        abort(404)
    is_api = request.blueprint == "api"
    g.channel = "api" if is_api else "web"
    if is_api:
        from app.tokens import user_from_bearer
        user = user_from_bearer()
    else:
        user = current_user._get_current_object() if current_user.is_authenticated else None
    g.actor = user
    if name == "public":
        return None
    if user is None:
        if is_api:
            return jsonify({"error": "unauthorised", "message": "Send a valid bearer token."}), 401
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if not allows(name, user):
        # An authorisation failure is audited like load_case's refusals (LG-2), committed before the 404.
        case_id = (request.view_args or {}).get("case_id")
        audit.record("case.denied" if case_id is not None else "route.denied", case_id=case_id, user=user,
                     detail=f"endpoint={request.endpoint}")
        db.session.commit()
        abort(404)
    return None


def security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy",
                       "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
                       "form-action 'self'; frame-ancestors 'none'; "
                       "script-src 'self' 'sha256-GUQ5ad8JK5KmEWmROf3LZd9ge94daqNvd8xy9YS1iDw='")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    if g.get("actor") is not None:
        headers["Cache-Control"] = "no-store"
    return response

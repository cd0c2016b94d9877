"""Error pages and JSON errors: no request ever reaches the person as a bare 500."""
from __future__ import annotations

import logging

from flask import g, jsonify, make_response, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from app.core.errors import Conflict
from app.core.extensions import db
from workflows import WorkflowError

log = logging.getLogger(__name__)

TITLES = {400: "Bad request", 401: "Sign in required", 403: "You cannot do that", 404: "Page not found",
          405: "Method not allowed", 409: "Someone else changed this", 413: "Too large",
          422: "There is a problem", 429: "Too many requests", 500: "Sorry, there is a problem with the service",
          503: "Sorry, the service is unavailable"}


def wants_json() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


#: The API's error codes where the title would not do.
CODES = {409: "conflict"}


def respond(status: int, message: str, *, title: str | None = None, **extra):
    g.answering_error = True  # the request's work is rolled back: the page must render even with no database
    if wants_json():
        code = CODES.get(status) or TITLES.get(status, "error").lower().replace(" ", "_")
        return jsonify({"error": code, "message": message, **extra}), status
    return render_template("web/error.html", status=status, title=title or TITLES.get(status, "Error"),
                           message=message), status


def conflict(exc: Conflict):
    """The one answer to a stale write: nothing is kept, and the person is told to reload (409)."""
    db.session.rollback()
    return respond(409, exc.message, title=exc.title)


def init_app(app) -> None:
    app.register_error_handler(Conflict, conflict)

    @app.errorhandler(StaleDataError)
    def stale(exc):  # a version_id_col refused the UPDATE: someone else's change landed first
        return conflict(Conflict())

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc):
        # The database (or the audit write, which commits with the change) failed: nothing was saved, so the
        # honest answer is "unavailable, try again". Only the error's type is logged: its text can hold values.
        db.session.rollback()
        log.error("database error on %s %s: %s", request.method, request.endpoint, type(exc).__name__)
        return respond(503, "The service could not save or read this just now. Nothing you sent was saved; "
                            "try again in a few minutes.")

    @app.errorhandler(WorkflowError)
    def workflow_error(exc):
        db.session.rollback()
        extra = {}
        if hasattr(exc, "errors"):
            extra["errors"] = exc.errors
        if hasattr(exc, "reasons"):
            extra["reasons"] = exc.reasons
        return respond(exc.status, str(exc), **extra)

    @app.errorhandler(HTTPException)
    def http_error(exc):
        db.session.rollback()
        response = make_response(respond(exc.code or 500, exc.description or TITLES.get(exc.code, "Error")))
        # The exception's own headers belong to the answer (a 405 must name the methods that are Allowed, RFC 9110);
        # only its Content-Type is ours to set.
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers.add(name, value)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc):
        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        return respond(500, "Try again later. Nothing you sent was saved.")

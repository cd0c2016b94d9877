"""The Flask application factory."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from flask import Flask, g, redirect, send_from_directory, url_for
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app.config import load_config
from app.crypto import KeyError_, Keyring, check_key
from app.extensions import csrf, db, migrate
from app.forms import error_links, form_error_links
from app.measures.sql import SqliteMedian
from app.models import MAX_INT
from app.timeutil import local_now

ROOT = Path(__file__).resolve().parent.parent
#: Where each role starts after signing in.
START_PAGES = {"practitioner": "cases.index", "coordinator": "dashboard.index", "panel_member": "cases.index",
               "analyst": "measures.index", "admin": "admin.users"}
ASSETS = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"


def create_app(config: dict | None = None) -> Flask:
    """Create and configure an instance of the application."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=None)
    load_config(app, config)
    _require_keys(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["id"] = RowIdConverter

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                      "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf")}),
    ])
    WTFormsHelpers(app)

    import panels
    import workflows.models  # noqa: F401  (registers the engine's tables)
    from app import (
        accessibility,
        account,
        actions,
        admin,
        api,
        auth,
        cases,
        cli,
        dashboard,
        errors,
        guard,
        meeting_record,
        meetings,
        security,
        series_views,
    )
    from app.measures import views as measures
    from app.meeting_exports import bp as meeting_exports
    from app.notifications import views as notifications

    app.register_blueprint(auth.bp)
    app.register_blueprint(accessibility.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(meetings.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(meeting_record.bp)
    app.register_blueprint(series_views.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(meeting_exports)
    app.register_blueprint(api.bp)
    measures.init_app(app)
    csrf.exempt(api.bp)  # the API takes bearer tokens only, never the session cookie, so CSRF cannot apply
    panels.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    _register_assets(app)
    guard.check(app)
    return app


class RowIdConverter(IntegerConverter):
    """A database row id: ids outside 1..2^31-1 do not match, so they 404 before reaching the database."""

    #: ASCII digits without leading zeros only: werkzeug's \d+ also takes "１" or "01", which alias case 1.
    regex = r"[1-9][0-9]*"

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_INT)


def _require_keys(app: Flask) -> None:
    missing = [k for k in ("SECRET_KEY", "DATA_KEYS", "BLIND_INDEX_KEY") if not app.config.get(k)]
    if missing:
        raise RuntimeError(
            f"Missing configuration: {', '.join(missing)}. Set them in instance/config.py or the environment "
            "(`make instance/config.py` writes fresh random keys for local use).")
    try:  # a malformed key must stop start-up, not fail the first request that reads a case
        Keyring.from_config(app.config["DATA_KEYS"], app.config.get("DATA_KEY_PRIMARY"))
    except KeyError_ as exc:
        raise RuntimeError(f"Invalid DATA_KEYS or DATA_KEY_PRIMARY: {exc}") from exc
    try:
        check_key(app.config["BLIND_INDEX_KEY"])
    except KeyError_ as exc:
        raise RuntimeError(f"Invalid BLIND_INDEX_KEY: {exc}") from exc


def _register_assets(app: Flask) -> None:
    from app.access import policy

    @app.get("/assets/<path:filename>")
    @policy("static")
    def assets(filename: str):
        """Serve GOV.UK Frontend fonts, images, CSS and JS from the npm package installed at set-up."""
        for folder in (ASSETS / "assets", ASSETS):
            if (folder / filename).is_file():
                return send_from_directory(folder, filename, max_age=3600)
        return send_from_directory(ROOT / "templates" / "static", filename, max_age=3600)

    @app.get("/")
    @policy("public")
    def index():
        """Send people to their starting page."""
        user = g.get("actor")
        if user is None:
            return redirect(url_for("auth.login"))
        return redirect(url_for(START_PAGES.get(user.role, "account.index")))

    @app.context_processor
    def inject_user():
        return {"actor": g.get("actor"), "panels": app.extensions["panels"]}

    app.add_template_filter(long_date)
    app.add_template_filter(local_now, "uk_time")  # a *_at (UTC) column as UK wall-clock time
    app.add_template_global(error_links)
    app.add_template_global(form_error_links)


def long_date(value, time: bool = False) -> str:
    """Format a date, datetime or ISO date string the GOV.UK way: 4 March 1991 (at 10:00)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    text = f"{value.day} {value:%B %Y}"
    return f"{text} at {value:%H:%M}" if time and isinstance(value, datetime) else text


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """Make SQLite durable and strict (WAL, full sync, foreign keys, a busy timeout), and give it a median."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_aggregate("median", 1, SqliteMedian)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

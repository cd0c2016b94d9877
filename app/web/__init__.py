"""The service's shared page machinery: form pieces, error pages, the accessibility statement, the assets."""
from __future__ import annotations

from pathlib import Path

from flask import g, redirect, send_from_directory, url_for
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, PackageLoader, PrefixLoader
from markupsafe import Markup, escape
from werkzeug.routing import IntegerConverter

from app.core import settings as settings_registry
from app.core.access import policy
from app.core.models import MAX_INT
from app.core.roles import role
from app.core.timeutil import local_now, long_date, today
from app.web import accessibility, errors, settings
from app.web.forms import error_links, form_error_links

ROOT = Path(__file__).resolve().parent.parent.parent
ASSETS = ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"


class RowIdConverter(IntegerConverter):
    """A database row id: ids outside 1..2^31-1 do not match, so they 404 before reaching the database."""

    #: ASCII digits without leading zeros only: werkzeug's \d+ also takes "１" or "01", which alias case 1.
    regex = r"[1-9][0-9]*"

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, min=1, max=MAX_INT)


def init_app(app) -> None:
    app.url_map.converters["id"] = RowIdConverter
    app.jinja_loader = ChoiceLoader([
        app.jinja_loader,
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                      "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf")}),
    ])
    WTFormsHelpers(app)
    app.register_blueprint(accessibility.bp)
    errors.init_app(app)
    settings_registry.register(settings.SETTINGS)

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
        held = role(user.role)
        return redirect(url_for(held.start_page if held else "account.index"))

    @app.context_processor
    def inject_user():
        return {"actor": g.get("actor"), "panels": app.extensions["panels"]}

    app.add_template_filter(long_date)
    app.add_template_filter(as_lines)
    app.add_template_filter(local_now, "uk_time")  # a *_at (UTC) column as UK wall-clock time
    app.add_template_global(error_links)
    app.add_template_global(form_error_links)
    app.add_template_global(service_name)
    app.add_template_global(today)


def as_lines(messages) -> Markup:
    """Messages as HTML, each escaped, one to a line, their own line breaks kept (a flash may span lines)."""
    return Markup("<br>").join(Markup("<br>").join(escape(line) for line in str(m).splitlines()) for m in messages)


def service_name() -> str:
    """The service's name, a setting every page shows (an error page's read survives the database being down)."""
    if g.get("answering_error"):
        return settings_registry.shown_on_error_page("service.name")
    return settings.name()

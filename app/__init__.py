"""The Flask application factory: configuration, the database, then each feature and the panels, in order."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.core import database, settings
from app.core.config import load_config
from app.core.extensions import csrf, db, migrate
from app.core.guard import check, require_keys

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> Flask:
    """Create and configure an instance of the application."""
    app = Flask(__name__, instance_path=str(ROOT / "instance"), instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=None)
    load_config(app, config)
    require_keys(app)
    database.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)

    import panels
    import workflows.models  # noqa: F401  (registers the engine's tables)
    from app import actions, admin, api, auth, cases, measures, meetings, notifications, web

    # Lower features first: each may rely on what those before it registered.
    for feature in (web, auth, notifications, cases, actions, meetings, measures, api, admin):
        feature.init_app(app)
    panels.init_app(app)
    settings.init_app(app)  # every group is registered: read their first values from the configuration
    check(app)
    return app

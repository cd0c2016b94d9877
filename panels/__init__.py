"""The panels, listed explicitly (no plugin discovery), and their registration with the shared code."""
from __future__ import annotations

from panels.asb_case_review import PANEL as ASB_CASE_REVIEW
from panels.base import Panel
from panels.marac import PANEL as MARAC

PANELS: dict[str, Panel] = {p.key: p for p in (MARAC, ASB_CASE_REVIEW)}


def init_app(app) -> None:
    """Check each panel's contract, then register what it declares: workflow, access model and seat roles, settings,
    reference prefix and pages. A panel that fails its contract stops start-up with what is wrong."""
    from app.core import access, models, roles, settings
    from workflows import register

    for panel in PANELS.values():
        panel.validate()
        register(panel.workflow)
        access.register_panel(panel.key, panel.access)
        for role in panel.access.roles:
            roles.register_role(role)
        settings.register(panel.settings)
        models.REFERENCE_PREFIXES[panel.key] = panel.reference_prefix
        app.register_blueprint(panel.pages.blueprint)
    app.extensions["panels"] = PANELS

"""The panels, listed explicitly (no plugin discovery)."""
from __future__ import annotations

from panels.asb_case_review import PANEL as ASB_CASE_REVIEW
from panels.base import Panel
from panels.marac import PANEL as MARAC
from workflows import register

PANELS: dict[str, Panel] = {p.key: p for p in (MARAC, ASB_CASE_REVIEW)}


def init_app(app) -> None:
    for panel in PANELS.values():
        register(panel.workflow)
        app.register_blueprint(panel.blueprint)
    app.extensions["panels"] = PANELS


def get(key: str) -> Panel | None:
    return PANELS.get(key)

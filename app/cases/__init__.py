"""Case pages and services shared by every panel: referrals, the case page, workflow steps, research, lead
practitioners, search, lists."""


def init_app(app) -> None:
    from flask import g

    from app.cases import break_glass, break_glass_views, leads, sections, views
    from app.cases.settings import SETTINGS
    from app.core import access, settings

    app.register_blueprint(views.bp)
    app.register_blueprint(break_glass_views.bp)
    settings.register(SETTINGS)
    access.register_relation(leads.NAMED_LEAD)
    access.register_relation(break_glass.EMERGENCY_ACCESS)
    sections.register(leads.SECTION)

    @app.context_processor
    def emergency_access():
        """Every page tells a person which cases they hold open under emergency access (none on an error page)."""
        def in_force():
            user = g.get("actor")
            if g.get("answering_error") or not break_glass.may_break_glass(user):
                return []
            return break_glass.in_force_for(user)
        return {"emergency_access": in_force}

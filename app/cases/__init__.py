"""Case pages and services shared by every panel: referrals, the case page, workflow steps, research, lead
practitioners, search, lists."""


def init_app(app) -> None:
    from app.cases import leads, sections, views
    from app.cases.settings import SETTINGS
    from app.core import access, settings

    app.register_blueprint(views.bp)
    settings.register(SETTINGS)
    access.register_relation(leads.NAMED_LEAD)
    sections.register(leads.SECTION)

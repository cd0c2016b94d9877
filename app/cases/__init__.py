"""Case pages and services shared by every panel: referrals, the case page, workflow steps, research, search, lists."""


def init_app(app) -> None:
    from app.cases import views
    from app.cases.settings import SETTINGS
    from app.core import settings

    app.register_blueprint(views.bp)
    settings.register(SETTINGS)

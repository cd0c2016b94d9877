"""Case pages and services shared by every panel: referrals, the case page, workflow steps, research, search, lists."""


def init_app(app) -> None:
    from app.cases import views

    app.register_blueprint(views.bp)

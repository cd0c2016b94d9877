"""Actions agreed for cases: adding and settling them, the agency's work list, and their models."""


def init_app(app) -> None:
    from app.actions import views

    app.register_blueprint(views.bp)

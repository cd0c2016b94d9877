"""The JSON API under /api/v1 and its OpenAPI document, assembled from the schemas that validate requests."""


def init_app(app) -> None:
    from app.api import views
    from app.core.extensions import csrf

    app.register_blueprint(views.bp)
    csrf.exempt(views.bp)  # the API takes bearer tokens only, never the session cookie, so CSRF cannot apply

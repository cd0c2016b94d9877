"""Sign-in with two factors, server-side sessions, throttling, passwords, API tokens, accounts and the person's own
account pages; the per-request route policy check and security headers."""


def init_app(app) -> None:
    from app.auth import account, security, views
    from app.auth.settings import SETTINGS
    from app.core import settings

    settings.register(SETTINGS)
    app.register_blueprint(views.bp)
    app.register_blueprint(account.bp)
    security.init_app(app)

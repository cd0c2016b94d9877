"""Actions agreed for cases: adding and settling them, the agency's work list, and their models."""


def init_app(app) -> None:
    from app.actions import on_case, reminders, views
    from app.actions.access import ASSIGNED, OWNING_AGENCY, owns_an_action
    from app.cases import sections
    from app.core import access
    from app.notifications.reminders import register_source

    app.register_blueprint(views.bp)
    sections.register(on_case.SECTION)
    access.register_stake("owns_an_action", owns_an_action)
    access.register_relation(ASSIGNED)
    access.register_relation(OWNING_AGENCY)
    register_source("actions", reminders.owed)

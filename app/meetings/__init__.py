"""Meetings: series, agendas, the meeting's record and minutes, papers and downloads, the coordinator's dashboard,
the workflow steps and forms every panel with meetings shares, and their models."""


def init_app(app) -> None:
    from app.cases import sections
    from app.core import access, settings
    from app.meetings import dashboard, exports, on_case, record, series, series_views, views
    from app.meetings.access import SEATED_AT_ITS_MEETING
    from app.meetings.settings import SETTINGS
    from workflows.scheduler import Job, register_job

    for blueprint in (views.bp, dashboard.bp, record.bp, series_views.bp, exports.bp):
        app.register_blueprint(blueprint)
    access.register_relation(SEATED_AT_ITS_MEETING)
    settings.register(SETTINGS)
    sections.register(on_case.SECTION)
    register_job(Job(series.MEETINGS_JOB, "SCHEDULER_MEETINGS_SECONDS", series.generate_all, order=50))

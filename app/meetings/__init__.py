"""Meetings: series, agendas, the meeting's record and minutes, papers and downloads, the coordinator's dashboard,
the workflow steps and forms every panel with meetings shares, and their models."""


def init_app(app) -> None:
    from app.meetings import dashboard, exports, record, series, series_views, views
    from workflows.scheduler import Job, register_job

    for blueprint in (views.bp, dashboard.bp, record.bp, series_views.bp, exports.bp):
        app.register_blueprint(blueprint)
    register_job(Job(series.MEETINGS_JOB, "SCHEDULER_MEETINGS_SECONDS", series.generate_all, order=50))

"""Administration: the account pages, the command line, demo data, and the database's housekeeping jobs."""


def init_app(app) -> None:
    from app.admin import cli, grant_views, maintenance, seats, settings_views, views  # noqa: F401 (seats: routes)
    from workflows.scheduler import Job, register_job

    app.register_blueprint(views.bp)
    app.register_blueprint(settings_views.bp)
    app.register_blueprint(grant_views.bp)
    cli.init_app(app)
    register_job(Job(maintenance.STATISTICS_JOB, "SCHEDULER_STATISTICS_SECONDS", maintenance.statistics, order=20))
    register_job(Job(maintenance.PRUNE_JOB, "SCHEDULER_PRUNE_SECONDS", maintenance.prune_sign_in_records, order=30))

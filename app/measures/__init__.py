"""Outcome measures: anonymised counts the partnership can trust (the framework, disclosure control, the figures
kept per day, charts and the analyst's pages)."""


def init_app(app) -> None:
    from app.measures import compute, rollup, views
    from workflows import case_moved
    from workflows.scheduler import Job, register_job

    views.init_app(app)
    case_moved.connect(rollup.case_moved)
    register_job(Job(compute.MEASURES_JOB, "SCHEDULER_MEASURES_SECONDS", compute.refresh_kept_days, order=40))

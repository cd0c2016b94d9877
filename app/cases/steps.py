"""Workflow pieces every panel's cases share (the meeting ones are in app.meetings.steps)."""
from __future__ import annotations


def close(case, ctx) -> None:
    """An effect: the case is closed on the day the step happened."""
    case.closed_on = ctx.occurred_on

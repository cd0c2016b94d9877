"""Letters to the applicant, written from templates at the step that needs them and kept with the case.

Each letter is plain text (rendered escaped on its page), encrypted at rest like any narrative.
"""
from __future__ import annotations

from datetime import date

from flask import render_template

from panels.asb_case_review import settings
from panels.asb_case_review.models import DISCRETION_GROUNDS, AsbLetter
from panels.kit import db


def write(case, kind: str, on: date, *, reason: str | None = None) -> AsbLetter:
    """Write the letter of this kind for the case as it stands (the caller commits)."""
    text = render_template(f"panels/asb_case_review/letters/{kind}.txt", case=case, on=on,
                           reason=(reason or "").strip(), grounds=DISCRETION_GROUNDS,
                           assessment=case.assessment,
                           decision_days=settings.decision_working_days(case),
                           escalation_days=settings.escalation_days(case))
    letter = AsbLetter(kind=kind, written_on=on)
    letter.body = text.strip() + "\n"
    case.letters.append(letter)
    db.session.add(letter)
    return letter

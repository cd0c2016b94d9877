"""What actions add to a case's page and to the API's case: the actions agreed, and which the person may update."""
from __future__ import annotations

from app.actions.access import may_update_action, shown_on_case
from app.cases.sections import CaseSection


def _page(user, case) -> dict:
    return {"actions": shown_on_case(user, case), "can_update": lambda action: may_update_action(user, case, action)}


def _describe(user, case) -> list[dict]:
    return [{"id": a.id, "owner_agency": a.owner_agency.code, "text": a.text, "due_on": a.due_on.isoformat(),
             "status": a.status, "version": a.version,
             "completed_on": a.completed_on.isoformat() if a.completed_on else None} for a in shown_on_case(user, case)]


SECTION = CaseSection("actions", _describe, template="actions/_case.html", page=_page, order=20)

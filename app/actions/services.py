"""Actions agreed for cases: validating and adding them, and settling them with their outcome."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app import notifications
from app.actions.models import ACTION_STATUSES, Action, ActionEntry
from app.core import audit
from app.core.access import coordinates
from app.core.extensions import db
from app.core.models import Agency, Case, User, new_uid
from app.core.roles import roles

ACTION_TEXT_MAX = 2000
OWNER_MAX = 200
OUTCOME_MAX = 5000
MAX_ACTIONS = 30
#: What an agency must say when it settles an action: the evidence it was done, or why it was not.
OUTCOME_PROMPTS = {"complete": "Describe the evidence that the action was done",
                   "not_done": "Say why the action was not done (for example, circumstances changed)"}


@dataclass(frozen=True)
class NewAction:
    owner_agency_id: int
    text: str
    due_on: date
    owner: str = ""


def parse_actions(raw, *, not_before: date) -> tuple[list[NewAction], dict[str, str]]:
    """Validate a list of {"owner_agency", "owner", "text", "due_on"} and return actions and field errors."""
    if raw is None:
        return [], {}
    if not isinstance(raw, list) or len(raw) > MAX_ACTIONS:
        return [], {"actions": f"Give a list of at most {MAX_ACTIONS} actions"}
    codes = {code: id_ for id_, code in db.session.execute(select(Agency.id, Agency.code))}
    actions, errors = [], {}
    for i, item in enumerate(raw):
        where = f"actions.{i}"
        if not isinstance(item, dict):
            errors[where] = "Each action needs an owning agency, the action and a due date"
            continue
        found = _action_errors(item, codes, not_before)
        errors.update({f"{where}.{key}": message for key, message in found.items()})
        if not found:
            actions.append(NewAction(codes[item["owner_agency"]], item["text"].strip(), _as_date(item["due_on"]),
                                     (item.get("owner") or "").strip()))
    return actions, errors


def _action_errors(item: dict, codes: dict[str, int], not_before: date) -> dict[str, str]:
    errors = {}
    agency = item.get("owner_agency")
    if not isinstance(agency, str) or agency not in codes:
        errors["owner_agency"] = "Choose the agency that owns this action"
    owner = item.get("owner")
    if owner is not None and (not isinstance(owner, str) or len(owner) > OWNER_MAX):
        errors["owner"] = f"The owner's name must be text of {OWNER_MAX} characters or fewer"
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "Enter the action"
    elif len(text) > ACTION_TEXT_MAX:
        errors["text"] = f"The action must be {ACTION_TEXT_MAX} characters or fewer"
    due = _as_date(item.get("due_on"))
    if due is None:
        errors["due_on"] = "Enter the due date as YYYY-MM-DD"
    elif due < not_before:
        errors["due_on"] = "The due date must be on or after the meeting"
    return errors


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def add_actions(case: Case, actions: list[NewAction], meeting=None) -> list[Action]:
    """Add the agreed actions to the case (and to the meeting that agreed them); the caller commits."""
    added = []
    for new in actions:
        action = Action(uid=new_uid(), case_id=case.id, meeting_id=meeting.id if meeting else None,
                        owner_agency_id=new.owner_agency_id, due_on=new.due_on)
        action.text = new.text
        action.owner = new.owner or None
        db.session.add(action)
        added.append(action)
        agency = db.session.get(Agency, new.owner_agency_id)
        notifications.notify(
            notifications.representatives(case.panel, new.owner_agency_id), notifications.ACTION_ASSIGNED,
            action.uid, f"{case.reference}: a new action for {agency.name}, due {new.due_on:%d %B %Y}.",
            notifications.path_for("cases.show", case_id=case.id))
    return added


def open_action_count(case: Case) -> int:
    return db.session.scalar(select(func.count(Action.id)).where(Action.case_id == case.id,
                                                                 Action.status == "open")) or 0


def settle_refusal(user, case: Case, action: Action) -> str | None:
    """Why the action cannot be changed now, or None. Closed is closed: nothing on a closed case changes. A settled
    action's evidence stands: only the panel's coordinator may correct it, and the correction is a new entry."""
    if case.closed_on is not None:
        return "The case is closed, so its actions can no longer be changed"
    if action.status != "open" and not coordinates(user, case.panel):
        return "This action has been settled: ask the panel's coordinator if its record needs correcting"
    return None


def update_action(user, case: Case, action: Action, status: str, on: date, outcome: str | None = None
                  ) -> dict[str, str]:
    """Settle an action (or correct a settled one) with its outcome; return field errors, changing nothing, when the
    input is wrong or the action may not change. Every change is kept as an entry and audited with the fields it
    changed; the caller commits."""
    if refusal := settle_refusal(user, case, action):
        return {"status": refusal}
    if status not in ACTION_STATUSES:
        return {"status": "Choose open, complete or not done"}
    outcome = (outcome or "").strip()
    correcting = action.status != "open"
    if status in OUTCOME_PROMPTS and not outcome:
        return {"outcome": OUTCOME_PROMPTS[status]}
    if correcting and not outcome:
        return {"outcome": "Say why the record is being corrected"}
    if len(outcome) > OUTCOME_MAX:
        return {"outcome": f"The outcome must be {OUTCOME_MAX} characters or fewer"}
    if correcting and not action.entries:
        _keep(action, None)  # settled before entries were kept: keep what it said before correcting it
    action.status = status
    action.completed_on = on if status != "open" else None
    action.outcome = outcome or None
    action.updated_by_id = getattr(user, "id", None)
    changed = audit.changed_fields(action, ignore={"updated_by_id"})
    _keep(action, user, is_correction=correcting)
    audit.record("action.correct" if correcting else "action.update", case_id=case.id, user=user,
                 detail=f"action={action.id} fields={','.join(changed) or 'none'}")
    return {}


def _keep(action: Action, user, *, is_correction: bool = False) -> None:
    entry = ActionEntry(action=action, status=action.status, completed_on=action.completed_on,
                        is_correction=is_correction, by_id=getattr(user, "id", action.updated_by_id))
    entry.outcome = action.outcome
    db.session.add(entry)


def assignable(action: Action) -> list[User]:
    """The people an action may be assigned to: enabled case workers of the agency that owns it."""
    case_roles = [r.key for r in roles() if r.works_cases]
    return list(db.session.scalars(select(User).where(
        User.agency_id == action.owner_agency_id, User.active(), User.role.in_(case_roles))
        .order_by(User.display_name, User.id)))


def assign(user, case: Case, action: Action, person: User | None) -> dict[str, str]:
    """Name the person in the owning agency who will do the action (None: nobody); they see the case while named.
    Returns field errors, changing nothing, when the action may not change; the caller commits."""
    if refusal := settle_refusal(user, case, action):
        return {"assignee": refusal}
    action.assignee_id = person.id if person else None
    audit.record("action.assign", case_id=case.id, user=user,
                 detail=f"action={action.id} fields={','.join(audit.changed_fields(action)) or 'none'}")
    if person is not None:
        notifications.notify([person], notifications.ACTION_ASSIGNED, action.uid,
                             f"{case.reference}: an action is assigned to you, due {action.due_on:%d %B %Y}.",
                             notifications.path_for("actions.update", case_id=case.id, action_id=action.id))
    return {}

"""Who is told: a panel's coordinators, and an agency's representatives on a panel."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.core.extensions import db
from app.core.models import Membership, User
from app.core.roles import seat_roles


@dataclass(frozen=True)
class Recipient:
    """The two things notify() needs of a person, for sweeps that read many without loading User rows."""

    id: int
    email: str
    #: Read from the accounts that may be used today (User.active()), like User.is_active.
    is_active: bool = True


def _seated(role: str):
    """Enabled people holding a seat of this role on a panel (the seat's role is their account's role)."""
    return (select(User).join(Membership, Membership.user_id == User.id)
            .where(Membership.role == role, Membership.in_force(), User.role == role, User.active()))


def coordinators(panel: str) -> list[User]:
    """Return the panel's enabled coordinators."""
    return list(db.session.scalars(_seated("coordinator").where(Membership.panel == panel).order_by(User.id)))


def representatives(panel: str, agency_id: int) -> list[User]:
    """Return the agency's enabled members of the panel, or the panel's coordinators when it has none."""
    members = list(db.session.scalars(_seated("panel_member").where(Membership.panel == panel,
                                                                    User.agency_id == agency_id).order_by(User.id)))
    return members or coordinators(panel)


class Directory:
    """Every panel's coordinators and agency representatives, read in one query, for a sweep over many cases.

    Answers exactly as coordinators() and representatives() do (the same seats, the same fallback).
    """

    def __init__(self) -> None:
        self._coordinators: dict[str, list[Recipient]] = {}
        self._members: dict[tuple[str, int], list[Recipient]] = {}
        rows = db.session.execute(
            select(User.id, User.email, User.agency_id, Membership.panel, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role.in_(sorted(seat_roles())), Membership.in_force(), User.role == Membership.role,
                   User.active())
            .order_by(User.id))
        for user_id, email, agency_id, panel, role in rows:
            person = Recipient(user_id, email)
            if role == "coordinator":
                self._coordinators.setdefault(panel, []).append(person)
            else:
                self._members.setdefault((panel, agency_id), []).append(person)

    def coordinators(self, panel: str) -> list[Recipient]:
        return self._coordinators.get(panel, [])

    def representatives(self, panel: str, agency_id: int) -> list[Recipient]:
        return self._members.get((panel, agency_id)) or self.coordinators(panel)

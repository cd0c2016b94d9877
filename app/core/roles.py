"""Roles as data: what each kind of account may reach, where it starts, and whether it is held per panel.

Core declares the roles that cross panels (practitioner, analyst, board member, administrator) and the seat roles a
panel may have (coordinator, panel member, an agency's single point of contact); a panel's access model names the
seat roles it has, and registering the panel registers them. A person holds one role; a seat role is held on the
panels of their seats (Membership rows, each in force from its first day until it ends).
"""
from __future__ import annotations

from dataclasses import dataclass

#: Route policies a view declares with @policy (app.core.access). "public" needs no sign-in; "static" is for files
#: anyone may fetch (no session is read, and they may be cached); "sign_in_pending" is for the person between their
#: password and their second factor. The others are passed by the roles that list them.
OPEN_POLICIES = frozenset({"public", "static", "sign_in_pending"})
ROLE_POLICIES = frozenset({"signed_in", "case_work", "coordinator", "measures", "admin"})


@dataclass(frozen=True)
class Role:
    """A kind of account."""

    key: str
    title: str
    #: What the role does, in a phrase (the administration pages show it after the title).
    description: str
    #: The route policies it passes.
    policies: frozenset[str]
    #: Where the person starts after signing in (an endpoint).
    start_page: str
    #: Held on the panels of the person's seats, not across the service.
    per_panel: bool = False
    #: Where it comes in lists of roles.
    order: int = 50

    def __post_init__(self) -> None:
        unknown = sorted(self.policies - ROLE_POLICIES)
        if unknown:
            raise ValueError(f"role {self.key!r} names unknown route policies {unknown}")

    @property
    def works_cases(self) -> bool:
        """Makes referrals and opens cases (analysts and administrators never touch case data)."""
        return "case_work" in self.policies

    @property
    def label(self) -> str:
        return f"{self.title}: {self.description}"


PRACTITIONER = Role("practitioner", "Practitioner", "makes referrals and follows them",
                    frozenset({"signed_in", "case_work"}), "cases.index", order=10)
COORDINATOR_SEAT = Role("coordinator", "Panel coordinator", "runs a panel's cases and meetings",
                   frozenset({"signed_in", "case_work", "coordinator", "measures"}), "dashboard.index", per_panel=True,
                   order=20)
PANEL_MEMBER_SEAT = Role("panel_member", "Panel member", "sees the cases on the agendas of meetings they sit on",
                    frozenset({"signed_in", "case_work"}), "cases.index", per_panel=True, order=30)
AGENCY_CONTACT_SEAT = Role("agency_contact", "Agency single point of contact",
                          "sees every case of the panel their agency referred or owns an action on",
                          frozenset({"signed_in", "case_work"}), "cases.index", per_panel=True, order=35)
ANALYST = Role("analyst", "Analyst", "sees anonymised counts only, never a case",
               frozenset({"signed_in", "measures"}), "measures.index", order=40)
BOARD_MEMBER = Role("board_member", "Board member", "sees the partnership's anonymised counts, never a case",
                    frozenset({"signed_in", "measures"}), "measures.index", order=45)
ADMIN = Role("admin", "Administrator", "manages accounts and settings, never sees a case",
             frozenset({"signed_in", "admin"}), "admin.users", order=50)
#: The roles that cross panels: there whichever panels are served.
ACROSS_PANELS = (PRACTITIONER, ANALYST, BOARD_MEMBER, ADMIN)

_roles: dict[str, Role] = {r.key: r for r in ACROSS_PANELS}


def register_role(role: Role) -> None:
    """Add a role (a panel's seat role, when the panel is registered); the same role twice is one role."""
    known = _roles.get(role.key)
    if known is not None and known != role:
        raise ValueError(f"two different roles are called {role.key!r}")
    _roles[role.key] = role


def roles() -> list[Role]:
    """Every role, in their order."""
    return sorted(_roles.values(), key=lambda r: (r.order, r.key))


def role(key: str | None) -> Role | None:
    return _roles.get(key or "")


def seat_roles() -> frozenset[str]:
    return frozenset(r.key for r in _roles.values() if r.per_panel)


def passes(policy: str, user) -> bool:
    """Whether the user's role passes the route policy (an open policy admits anyone)."""
    if policy in OPEN_POLICIES:
        return True
    held = role(getattr(user, "role", None))
    return user is not None and user.is_active and held is not None and policy in held.policies


def works_cases(user) -> bool:
    held = role(getattr(user, "role", None))
    return held is not None and held.works_cases

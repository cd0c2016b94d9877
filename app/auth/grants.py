"""Two people for a powerful grant: a role that sees case data, or administers the service, needs a second
administrator's approval before it takes effect.

Otherwise one administrator could make a coordinator account for an address they hold (or give a seat to a friend)
and open a panel's cases alone. A grant that needs approval is kept as a pending AccessGrant; the person keeps the
access they had (a new account has none: its role is AWAITING, which passes no route policy, and its invitation is
emailed only when the grant is approved). What a change takes away goes at once: a seat removed now, and on a
change to another powerful role the old one too (the person holds AWAITING until the new one is approved). Nobody
decides their own request, nor a grant for themselves.

What takes effect at once: a role that sees no case data and administers nothing (analyst), and a change that only
takes access away (the same role on fewer panels). The server's command line is the operator's trusted way to
bootstrap administrators and service accounts: its grants take effect at once, recorded with outcome "cli".
"""
from __future__ import annotations

from sqlalchemy import select, update

from app.auth import accounts
from app.auth.models import AccessGrant
from app.core import audit
from app.core.extensions import db
from app.core.models import Agency, User
from app.core.roles import role as role_named
from app.core.timeutil import utcnow

#: The role of an account whose first role waits for approval: it passes no route policy and opens no case.
AWAITING = "awaiting_approval"
PENDING, APPROVED, REFUSED, REPLACED, CLI = "pending", "approved", "refused", "replaced", "cli"


def is_powerful(role: str) -> bool:
    """Whether the role sees case data or administers the service (and so needs a second person to grant)."""
    held = role_named(role)
    return held is not None and (held.works_cases or "admin" in held.policies)


def needs_approval(user: User | None, role: str, panels) -> bool:
    """Whether giving this role and these seats to the user (None: a new account) needs a second administrator."""
    if not is_powerful(role):
        return False
    if user is None or user.role != role:
        return True
    held = user.panels_as(role)  # seats in force: one ended is given again only with a second administrator
    return not set(panels) <= held  # the same role on fewer (or the same) panels only takes access away


def _text(panels) -> str:
    return ",".join(sorted(set(panels)))


def _replace_pending(user: User) -> None:
    db.session.execute(update(AccessGrant).where(AccessGrant.user_id == user.id, AccessGrant.outcome == PENDING)
                       .values(outcome=REPLACED, decided_at=utcnow()).execution_options(synchronize_session=False))


def pending_for(user: User) -> AccessGrant | None:
    return db.session.scalar(select(AccessGrant).where(AccessGrant.user_id == user.id, AccessGrant.outcome == PENDING)
                             .order_by(AccessGrant.id.desc()).limit(1))


def pending() -> list[AccessGrant]:
    return list(db.session.scalars(select(AccessGrant).where(AccessGrant.outcome == PENDING)
                                   .order_by(AccessGrant.id)))


def ask(user: User, role: str, panels, requested_by: User, *, new_account: bool = False) -> AccessGrant:
    """Record a request for a second administrator to approve, replacing any earlier one (the caller commits)."""
    _replace_pending(user)
    grant = AccessGrant(user_id=user.id, role=role, panels=_text(panels), new_account=new_account,
                        requested_by_id=requested_by.id, requested_at=utcnow(), outcome=PENDING)
    db.session.add(grant)
    db.session.flush()
    audit.record("admin.grant_request", detail=f"grant={grant.id} user={user.id} role={role} panels={grant.panels}")
    return grant


def change_role(user: User, role: str, panels, requested_by: User) -> AccessGrant | None:
    """Change someone's role and seats from the administration pages (the caller commits).

    What is taken away goes at once; what is given waits for a second administrator when it is powerful (the
    pending grant is returned). So a seat removed goes now and a seat added waits; a change to another powerful
    role takes the old one away now (the person holds AWAITING meanwhile); a role that is not powerful is given at
    once. Every immediate change is audited admin.role_change."""
    before, grant = user.role, None
    if not needs_approval(user, role, panels):
        _replace_pending(user)
        accounts.set_role(user, role, panels)
    else:
        grant = ask(user, role, panels, requested_by)
        if user.role == role:  # keep only the seats still asked for
            accounts.set_role(user, role, sorted(user.panels_as(role) & set(panels)))
        else:
            accounts.set_role(user, AWAITING, [])
    kept = sorted(user.panels_as(user.role))
    audit.record("admin.role_change", detail=f"user={user.id} from={before} to={user.role} panels={','.join(kept)}")
    return grant


def new_account(email: str, name: str, agency: Agency, role: str, panels,
                requested_by: User) -> tuple[User, AccessGrant | None]:
    """Create an account from the administration pages: with its role at once when nothing powerful is given, else
    with no access (AWAITING) and a pending grant. The caller commits and sends the invitation when there is no
    grant pending."""
    if not needs_approval(None, role, panels):
        return accounts.create_account(email, name, agency, role, panels), None
    user = accounts.create_account(email, name, agency, AWAITING, [])
    return user, ask(user, role, panels, requested_by, new_account=True)


def refusal(grant: AccessGrant, administrator: User) -> str | None:
    """Why this administrator may not decide this grant, or None."""
    if grant.outcome != PENDING:
        return "This request has been decided already"
    if grant.user_id == administrator.id:
        return "This request is for you: another administrator must decide it"
    if grant.requested_by_id == administrator.id:
        return "You asked for this: another administrator must decide it"
    return None


def decide(grant: AccessGrant, administrator: User, approve: bool) -> str | None:
    """Approve or refuse the grant as this administrator, audited; return why not, or None (the caller commits, and
    emails the invitation of an approved new account)."""
    problem = refusal(grant, administrator)
    if problem:
        return problem
    outcome = APPROVED if approve else REFUSED
    claimed = db.session.execute(update(AccessGrant).where(AccessGrant.id == grant.id, AccessGrant.outcome == PENDING)
                                 .values(outcome=outcome, decided_by_id=administrator.id, decided_at=utcnow())
                                 .execution_options(synchronize_session=False)).rowcount
    if claimed != 1:  # another administrator decided it a moment ago
        return "This request has been decided already"
    db.session.refresh(grant)
    user = grant.user
    if approve:
        accounts.set_role(user, grant.role, grant.panel_list)
    elif grant.new_account:
        accounts.disable(user)  # a refused new account never gets its invitation
    audit.record(f"admin.grant_{'approve' if approve else 'refuse'}",
                 detail=f"grant={grant.id} user={user.id} role={grant.role} panels={grant.panels}")
    return None


def granted_by_cli(user: User) -> None:
    """Record that the server's command line gave the user their role, at once (the caller commits)."""
    _replace_pending(user)
    panels = sorted(user.panels_as(user.role))
    db.session.add(AccessGrant(user_id=user.id, role=user.role, panels=_text(panels), requested_at=utcnow(),
                               decided_at=utcnow(), outcome=CLI))
    audit.record("admin.grant_cli", detail=f"user={user.id} role={user.role} panels={_text(panels)}")

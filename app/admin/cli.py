"""Command-line administration: agencies, users, tokens, keys, demo data and the scheduler."""
from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from sqlalchemy import func, select

from app.auth import accounts, grants, tokens
from app.auth.models import ApiToken
from app.core import audit, crypto, subjects
from app.core.extensions import db
from app.core.guard import check_database, is_development
from app.core.models import AGENCY_KINDS, Agency, Subject, User
from app.core.roles import role as role_named
from app.core.roles import roles


def init_app(app) -> None:
    for group in (agencies, users, tokens_cli, keys, demo):
        app.cli.add_command(group)
    app.cli.add_command(scheduler)


@click.group()
def agencies():
    """Manage agencies."""


@agencies.command("create")
@click.argument("code")
@click.argument("name")
@click.option("--kind", required=True, type=click.Choice(AGENCY_KINDS))
def create_agency(code: str, name: str, kind: str):
    """Create an agency with a short CODE and a display NAME."""
    code = code.strip().upper()
    if not code or len(code) > 32 or not name.strip():
        raise click.UsageError("CODE (1-32 characters) and NAME are required")
    if db.session.scalar(select(Agency).where(Agency.code == code)):
        raise click.ClickException(f"agency {code} already exists")
    db.session.add(Agency(code=code, name=name.strip(), kind=kind))
    audit.record("admin.agency_create", detail=f"code={code}")
    db.session.commit()
    click.echo(f"Created agency {code}")


@click.group()
def users():
    """Manage users."""


def _known_role(key: str) -> str:
    """The role as given, when the service has it (the panels' seat roles are known once the app is made)."""
    if role_named(key) is None:
        raise click.BadParameter(f"{key!r} is not one of {', '.join(repr(r.key) for r in roles())}.")
    return key


@users.command("create")
@click.argument("email")
@click.option("--agency", "agency_code", required=True)
@click.option("--role", required=True, callback=lambda ctx, param, value: _known_role(value))
@click.option("--panel", "panels", multiple=True, help="Panel the coordinator or member sits on (repeatable)")
@click.option("--name", default="", help="Display name")
def create_user(email: str, agency_code: str, role: str, panels: tuple[str, ...], name: str):
    """Create an account and print its one-time invitation link (nobody chooses a password for someone else).

    The operator's trusted way to bootstrap administrators and service accounts: the role takes effect at once
    (recorded as a "cli" grant), where the administration pages need a second administrator's approval."""
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code.strip().upper()))
    if agency is None:
        raise click.ClickException(f"no agency with code {agency_code}")
    problems = accounts.role_problems(role, panels)
    if problem := accounts.email_problem(email):
        problems["email"] = problem
    if problems:
        raise click.UsageError("; ".join(problems.values()))
    user, link = accounts.invite(email, name, agency, role, panels)
    audit.record("admin.user_invite", detail=f"user={user.id} role={role} via=cli")
    grants.granted_by_cli(user)  # the operator's trusted bootstrap: at once, recorded as a "cli" grant
    db.session.commit()
    click.echo(f"Created {role} {user.email}")
    hours = current_app.config["INVITE_LINK_HOURS"]
    click.echo(f"Invitation link (works once, within {hours} hours; send it to them):")
    click.echo(link)


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    return user


@users.command("reset-link")
@click.argument("email")
def reset_link(email: str):
    """Print a one-time link for EMAIL to choose a new password (their second factor is still needed)."""
    user = _user(email)
    link = accounts.reset_link(user)
    audit.record("admin.reset_link", detail=f"user={user.id}")
    db.session.commit()
    click.echo(f"Password reset link for {user.email} (works once, within "
               f"{current_app.config['RESET_LINK_HOURS']} hours; send it to them):")
    click.echo(link)


def _access_command(change: str):
    @users.command(change.replace("_", "-"), help=f"{accounts.ACCESS_CHANGES[change].title} (EMAIL's). "
                                                  f"{accounts.ACCESS_CHANGES[change].explanation}")
    @click.argument("email")
    def command(email: str):
        user = _user(email)
        done = accounts.change_access(user, change)
        db.session.commit()
        click.echo(f"{user.email}: {done}")
    return command


for _change in accounts.ACCESS_CHANGES:
    _access_command(_change)


@click.group("tokens")
def tokens_cli():
    """Manage API bearer tokens."""


def _panel_list(ctx, param, value: str | None) -> list[str] | None:
    """--panels marac,asb_case_review: panels the service has (none given: every panel the role reaches)."""
    if value is None:
        return None
    wanted = [p.strip() for p in value.split(",") if p.strip()]
    known = current_app.extensions["panels"]
    unknown = [p for p in wanted if p not in known]
    if not wanted or unknown:
        raise click.BadParameter(f"give panels from: {', '.join(sorted(known))}")
    return wanted


@tokens_cli.command("create")
@click.argument("email")
@click.option("--scope", type=click.Choice(tokens.SCOPES), default=tokens.READ, show_default=True,
              help="read: GET only; write: may also make referrals, fire events and update actions")
@click.option("--panels", callback=_panel_list, metavar="PANEL[,PANEL...]",
              help="Limit the token to these panels (default: every panel the account's role reaches)")
@click.option("--days", type=click.IntRange(1, 366), default=None,
              help="Days the token works (default: the API token lifetime setting, 90 unless changed)")
def create_token(email: str, scope: str, panels: list[str] | None, days: int | None):
    """Issue an API token for EMAIL and print it on the last line (only its hash is stored)."""
    user = _user(email)
    token = tokens.issue(user, scope=scope, panels=panels, days=days)
    reach = ",".join(sorted(panels)) if panels else "all"
    audit.record("admin.token_create", user=user, detail=f"via=cli scope={scope} panels={reach} "
                                                         f"days={days or 'default'}")
    db.session.commit()
    row = db.session.scalar(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
    click.echo(f"API token for {user.email} ({scope}, panels: {reach}, works until {row.expires_at:%Y-%m-%d %H:%M} "
               "UTC; shown once):")
    click.echo(token)


@click.group()
def keys():
    """Manage data encryption keys and blind-index keys."""


@keys.command("generate")
def generate_key():
    """Print a new random 256-bit key for DATA_KEYS or BLIND_INDEX_KEY."""
    click.echo(crypto.new_key())


@keys.command("rotate")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
def rotate_keys(batch: int):
    """Re-encrypt every value not under the primary key. Safe to stop and run again."""
    ring = crypto.keyring()
    total = 0
    for model, name in crypto.ENCRYPTED_FIELDS:
        field = model.__dict__[name]
        stale = _not_under(model, name, ring.primary)
        while True:
            rows = db.session.scalars(select(model).where(stale).order_by(model.id).limit(batch)).all()
            if not rows:
                break
            total += sum(field.reencrypt(row, ring) for row in rows)
            db.session.commit()
    remaining = sum(db.session.scalar(select(func.count()).select_from(m).where(_not_under(m, n, ring.primary)))
                    or 0 for m, n in crypto.ENCRYPTED_FIELDS)
    audit.record("admin.keys_rotate", detail=f"key={ring.primary} reencrypted={total} remaining={remaining}")
    db.session.commit()
    click.echo(f"Re-encrypted {total} values under key {ring.primary}; {remaining} values on other keys remain.")


@keys.command("rotate-index")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
def rotate_index(batch: int):
    """Recompute every subject's blind indexes under the current BLIND_INDEX_KEY. Safe to stop and run again.

    Until it reports 0 values on other keys, keep the older keys in BLIND_INDEX_KEY: matching, repeat detection
    and search look a person up under every configured key, so they find people not yet recomputed.
    """
    current = crypto.index_keys().current
    before = subjects.index_values_by_key()
    unknown = before.get("?", 0)
    audit.record("admin.index_rotate_start", detail=f"key={current} values={_tally(before)}")
    db.session.commit()  # on record even if the run is stopped part-way
    if unknown:
        click.echo(f"Warning: {unknown} index values are under keys no longer in BLIND_INDEX_KEY; matching, repeat "
                   "detection and search miss those people until this command finishes.", err=True)
    stale, total, last_id = subjects.stale_indexes(current), 0, 0
    while True:
        rows = db.session.scalars(select(Subject).where(stale, Subject.id > last_id)
                                  .order_by(Subject.id).limit(batch)).all()
        if not rows:
            break
        total += sum(subjects.reindex(row) for row in rows)
        last_id = rows[-1].id
        db.session.commit()
    after = subjects.index_values_by_key()
    remaining = sum(n for tag, n in after.items() if tag != current)
    audit.record("admin.index_rotate", detail=f"key={current} recomputed={total} remaining={remaining}")
    db.session.commit()
    click.echo(f"Recomputed the blind indexes of {total} subjects under key {current}; {remaining} index values "
               "on other keys remain.")


def _tally(counts: dict[str, int]) -> str:
    return ",".join(f"{tag}:{n}" for tag, n in sorted(counts.items())) or "none"


def _not_under(model, name: str, key_id: str):
    """Values of one encrypted field stored under any key but ``key_id``.

    An exact prefix comparison, not LIKE: '_' and '%' in a key id are wildcards to LIKE, and SQLite's LIKE
    ignores case, so a LIKE test could count an old key's values as done and let the key be retired too soon.
    """
    column = getattr(model, model.__dict__[name].storage)
    prefix = f"{crypto.PREFIX}:{key_id}:"
    return column.is_not(None) & (func.substr(column, 1, len(prefix)) != prefix)


@click.group()
def demo():
    """Synthetic demo data."""


@demo.command("load")
def load_demo():
    """Load the synthetic demo partnership if the database has no users yet (development only)."""
    from app.admin.demo import load, print_sign_ins
    _development_only()
    if db.session.scalar(select(func.count(User.id))):
        click.echo("The database already has users; demo data not loaded.")
    else:
        load()
        click.echo("Loaded the synthetic demo partnership.")
    print_sign_ins(click.echo)


@demo.command("codes")
def demo_codes():
    """Print each demo account's authenticator code for this moment (development only)."""
    from app.admin.demo import current_codes
    _development_only()
    for user, code in current_codes():
        click.echo(f"  {user.email:<32} {code}")
    click.echo("Each code works once, for about a minute.")


@demo.command("disable")
def disable_demo():
    """Disable the demo accounts and delete their credentials (so a database that held the demo can be served)."""
    from app.admin.demo import disable_all
    count = disable_all()
    audit.record("admin.demo_disable", detail=f"count={count}")
    db.session.commit()
    click.echo(f"Disabled {count} demo accounts.")


def _development_only() -> None:
    if not is_development(current_app):
        raise click.ClickException("This command is for development only: the demo's people and passwords are public")


def _utc_moment(ctx, param, value: str | None) -> datetime | None:
    """Read an ISO 8601 date and time as naive UTC (a time without an offset is taken as UTC)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("give a date and time such as 2026-03-02T08:00") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@click.command()
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron)")
@click.option("--simulate-from", metavar="ISO_DATETIME", callback=_utc_moment,
              help="Testing aid: run every job at simulated times from this moment (UTC unless an offset is given)")
@click.option("--simulate-days", type=click.IntRange(1, 366), default=7, show_default=True,
              help="How many days to simulate")
@click.option("--tick-minutes", type=click.IntRange(1, 24 * 60), default=60, show_default=True,
              help="Simulated minutes between ticks")
def scheduler(once: bool, simulate_from: datetime | None, simulate_days: int, tick_minutes: int):
    """Run the scheduler process (one per deployment): the deadline sweep, reminders, the mail outbox, housekeeping.

    \b
    Testing aid, for a test database only:
      flask scheduler --simulate-from 2026-03-02T08:00 --simulate-days 7 --tick-minutes 60
    runs every job, in order, at each simulated tick (every 60 minutes for 7 days), as the job would run at that
    moment: each under its lease, so two processes simulating at once share the windows. Mail goes to the real
    MAIL_SERVER. It prints what each job did. The jobs change the database as they would on those days (deadlines
    expire, sessions are pruned, reminders are sent), so never point it at live data.
    """
    from workflows.scheduler import build_scheduler, jobs, run_once, simulate
    check_database(current_app)
    if simulate_from is not None:
        tallies = simulate(current_app._get_current_object(), simulate_from, simulate_days, tick_minutes)
        end = simulate_from + timedelta(days=simulate_days)
        click.echo(f"Simulated {simulate_from:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC, "
                   f"a tick every {tick_minutes} minutes:")
        for job, tally in tallies.items():
            click.echo(f"  {job}: ran {tally.ran} times, skipped {tally.skipped} (window already taken, here or by "
                       f"another process); last: {tally.last_outcome or '-'}")
        return
    if once:
        for job in jobs():
            click.echo(f"{job.id}: {run_once(job.id, int(current_app.config[job.interval_setting]), work=job.work)}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo("Scheduler running; press Ctrl+C to stop.")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        build_scheduler(current_app._get_current_object()).start()

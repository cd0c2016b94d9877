"""Command-line administration: agencies, users, tokens, keys, demo data and the scheduler."""
from __future__ import annotations

import contextlib
import logging
import secrets
import sys

import click
from flask import current_app
from sqlalchemy import func, select

from app import audit, crypto, tokens
from app.extensions import db
from app.models import AGENCY_KINDS, PANEL_ROLES, ROLES, Agency, Membership, User
from app.passwords import hash_password, password_problem


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


@users.command("create")
@click.argument("email")
@click.option("--agency", "agency_code", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--panel", "panels", multiple=True, help="Panel the coordinator or member sits on (repeatable)")
@click.option("--name", default="", help="Display name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input")
def create_user(email: str, agency_code: str, role: str, panels: tuple[str, ...], name: str, password_stdin: bool):
    """Create a user; without --password-stdin a random password is generated and printed once."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.UsageError("EMAIL must be an email address")
    agency = db.session.scalar(select(Agency).where(Agency.code == agency_code.strip().upper()))
    if agency is None:
        raise click.ClickException(f"no agency with code {agency_code}")
    known = current_app.extensions["panels"]
    if role in PANEL_ROLES and not panels:
        raise click.UsageError(f"--panel is required for a {role}")
    for panel in panels:
        if panel not in known:
            raise click.UsageError(f"unknown panel {panel!r}; choose from {', '.join(sorted(known))}")
    if role not in PANEL_ROLES and panels:
        raise click.UsageError("--panel is only for coordinators and panel members")
    if db.session.scalar(select(User).where(func.lower(User.email) == email)):
        raise click.ClickException(f"user {email} already exists")
    generated = not password_stdin
    password = secrets.token_urlsafe(18) if generated else sys.stdin.readline().rstrip("\n")
    if problem := password_problem(password):
        raise click.ClickException(problem)
    user = User(email=email, display_name=name, agency=agency, role=role, password_hash=hash_password(password))
    user.memberships = [Membership(panel=p, role=role) for p in panels]
    db.session.add(user)
    audit.record("admin.user_create", detail=f"role={role}")
    db.session.commit()
    click.echo(f"Created {role} {email}")
    if generated:
        click.echo(f"Password (shown once): {password}")


@click.group("tokens")
def tokens_cli():
    """Manage API bearer tokens."""


@tokens_cli.command("create")
@click.argument("email")
def create_token(email: str):
    """Issue an API token for EMAIL and print it on the last line (only its hash is stored)."""
    user = db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"no user {email}")
    token = tokens.issue(user)
    audit.record("admin.token_create", user=user)
    db.session.commit()
    click.echo(f"API token for {user.email} (shown once):")
    click.echo(token)


@click.group()
def keys():
    """Manage data encryption keys."""


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
    click.echo(f"Re-encrypted {total} values under key {ring.primary}; {remaining} values on other keys remain.")


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
    """Load the synthetic demo partnership if the database has no users yet."""
    from app.demo import load, print_sign_ins
    if db.session.scalar(select(func.count(User.id))):
        click.echo("The database already has users; demo data not loaded.")
    else:
        load()
        click.echo("Loaded the synthetic demo partnership.")
    print_sign_ins(click.echo)


@click.command()
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron)")
def scheduler(once: bool):
    """Run the scheduler process (one per deployment): the deadline sweep and database statistics."""
    from workflows.scheduler import JOBS, build_scheduler, run_once
    if once:
        for job, (setting, work) in JOBS.items():
            click.echo(f"{job}: {run_once(job, int(current_app.config[setting]), work=work)}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    click.echo("Scheduler running; press Ctrl+C to stop.")
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        build_scheduler(current_app._get_current_object()).start()

"""The Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from contextlib import contextmanager

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_migrate import check, downgrade, upgrade
from sqlalchemy import inspect, text

from app import create_app
from app.core.crypto import keyring, normalise
from app.core.extensions import db
from app.core.subjects import INDEX_COLUMNS, same_person
from tests.conftest import scratch_postgres_database
from tests.conftest import test_config as config_for

POSTGRES = pytest.param("postgresql", marks=pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL") and not os.environ.get("REQUIRE_POSTGRES"),
    reason="PostgreSQL migration test needs TEST_DATABASE_URL"))


@contextmanager
def _empty_database(backend: str, tmp_path):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.db'}"
    else:
        with scratch_postgres_database("pcc_test_migrations") as url:
            yield url


@contextmanager
def _quiet_alembic_logging():
    """migrations/env.py calls logging.config.fileConfig, which disables every logger that already exists;
    put them back so later tests that capture logs still see them."""
    manager = logging.Logger.manager
    before = {name: logger.disabled for name, logger in manager.loggerDict.items()
              if isinstance(logger, logging.Logger)}
    root_level, root_handlers = logging.root.level, list(logging.root.handlers)
    try:
        yield
    finally:
        for name, logger in manager.loggerDict.items():
            if isinstance(logger, logging.Logger):
                logger.disabled = before.get(name, False)
        logging.root.setLevel(root_level)
        logging.root.handlers[:] = root_handlers


def _differences() -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _head() -> str:
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"the migrations have more than one head: {heads}"
    return heads[0]


def _assert_matches_models() -> None:
    assert _current_revision() == _head()
    assert set(inspect(db.engine).get_table_names()) == set(db.metadata.tables) | {"alembic_version"}
    assert _differences() == [], "the models and the migrations disagree; run `flask db migrate`"
    try:
        check()  # the same comparison through Flask-Migrate (`flask db check`); exits 1 on a difference
    except SystemExit as exc:  # pragma: no cover - only on failure
        pytest.fail(f"flask db check found differences (exit {exc.code})")


@pytest.mark.parametrize("backend", ["sqlite", POSTGRES])
def test_migrations_build_the_models_schema_and_downgrade_cleanly(backend, tmp_path):
    with _empty_database(backend, tmp_path) as url, _quiet_alembic_logging():
        application = create_app(config_for(url))
        with application.app_context():
            try:
                assert inspect(db.engine).get_table_names() == []
                upgrade()
                _assert_matches_models()

                downgrade(revision="base")
                assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
                assert _current_revision() is None

                upgrade()
                _assert_matches_models()
            finally:
                db.session.remove()
                db.engine.dispose()


def test_migration_files_are_dated_and_linear():
    application = create_app(config_for("sqlite://"))
    with application.app_context():
        config = application.extensions["migrate"].migrate.get_config()
        script = ScriptDirectory.from_config(config)
        revisions = list(script.walk_revisions())
    assert revisions, "no migrations"
    assert len(script.get_bases()) == 1 and len(script.get_heads()) == 1
    for revision in revisions:
        name = os.path.basename(revision.path)
        assert name[:8].isdigit() and name[8] == "_", f"{name} does not start with its date (YYYYMMDD_)"


def _old_match_index(forename: str, surname: str, dob: str) -> str:
    """match_index as the code before the per-purpose indexes made it: one purpose, no key id (32 bits)."""
    root = base64.b64decode(current_app.config["BLIND_INDEX_KEY"])
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"blind-index:subject-match").derive(root)
    message = "\x1f".join(normalise(part) for part in (forename, surname, dob)).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:8]


@pytest.mark.parametrize("backend", ["sqlite", POSTGRES])
def test_the_blind_index_migration_keeps_every_old_index_value_and_rotation_replaces_them(backend, tmp_path):
    people = [("Amelia", "Hartley", "1990-04-12"), ("Zoë", "O'Brien", "1985-11-30"), ("Siân", "Rhys", None)]
    with _empty_database(backend, tmp_path) as url, _quiet_alembic_logging():
        application = create_app(config_for(url))
        with application.app_context():
            try:
                upgrade(revision="73e44ff024c9")
                old = {}
                for n, (forename, surname, dob) in enumerate(people, 1):
                    uid = f"6f1c2a3e-0000-4000-8000-00000000000{n}"
                    sealed = {f"{f}_ct": keyring().encrypt(v, context=f"subjects|{f}_ct|{uid}") if v else None
                              for f, v in (("forename", forename), ("surname", surname), ("date_of_birth", dob))}
                    old[n] = _old_match_index(forename, surname, dob) if dob else None
                    db.session.execute(text(
                        "INSERT INTO subjects (id, uid, forename_ct, surname_ct, date_of_birth_ct, match_index) "
                        "VALUES (:id, :uid, :forename_ct, :surname_ct, :date_of_birth_ct, :match_index)"),
                        {"id": n, "uid": uid, **sealed, "match_index": old[n]})
                db.session.commit()

                upgrade()
                stored = {row[0]: row[1:] for row in db.session.execute(text(
                    "SELECT id, matching_index, repeat_index, search_index FROM subjects ORDER BY id"))}
                assert stored == {1: (f"b1/subject-match:{old[1]}",) * 3, 2: (f"b1/subject-match:{old[2]}",) * 3,
                                  3: (None, None, None)}
                for n, person in enumerate(people[:2], 1):  # found by every use before any recomputation
                    for purpose in INDEX_COLUMNS:
                        assert db.session.scalars(same_person(purpose, *person)).all() == [n]
                db.session.commit()  # the migration's ALTER TABLE waits for any open read (PostgreSQL)

                downgrade(revision="73e44ff024c9")
                assert dict(db.session.execute(text("SELECT id, match_index FROM subjects")).all()) == old
                db.session.commit()
                upgrade()

                result = application.test_cli_runner().invoke(args=["keys", "rotate-index", "--batch", "1"])
                assert "Recomputed the blind indexes of 2 subjects under key b1; 0 index values" in result.output
                for n, person in enumerate(people[:2], 1):
                    values = db.session.execute(text("SELECT matching_index, repeat_index, search_index "
                                                     "FROM subjects WHERE id = :id"), {"id": n}).one()
                    assert all(v.startswith("b1:") for v in values) and len(set(values)) == 3
                    for purpose in INDEX_COLUMNS:
                        assert db.session.scalars(same_person(purpose, *person)).all() == [n]
            finally:
                db.session.remove()
                db.engine.dispose()

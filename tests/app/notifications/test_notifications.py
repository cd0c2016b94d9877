"""Notifications in the service and by email, the mail outbox over a real SMTP server, and the reminder sweep.

Each notification happens once (its key is unique, and the insert is ON CONFLICT DO NOTHING); its email says only
what kind of thing happened and links to the service; the outbox keeps every mail until a mail server takes it.
"""
from __future__ import annotations

import re
import threading
from datetime import datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from faker import Faker
from sqlalchemy import func, select, update

from app.actions.models import Action
from app.cases.services import refer
from app.core.extensions import db as _db
from app.core.models import Case, case_reference
from app.core.timeutil import add_working_days, today, utcnow
from app.meetings.agenda import seat_holders
from app.notifications import (
    ACTION_ASSIGNED,
    ACTION_DUE_SOON,
    ACTION_OVERDUE,
    DEADLINE_NEAR,
    Directory,
    coordinators,
    is_local_path,
    notify,
    representatives,
)
from app.notifications.mail import PROCESS_STOPPED, deliver_pending
from app.notifications.models import Notification, OutboxMail
from app.notifications.reminders import send_reminders
from tests.app.support import UNKNOWN_ID, audit_rows, list_case, meeting_on, post_form, sign_in, step
from tests.conftest import csrf_token
from tests.mailbox import free_port, smtp_server
from workflows.models import Deadline

TODAY = today()
NOW = datetime.combine(TODAY, time(11))  # naive UTC: the same day in the UK, summer or winter
NOTIFICATIONS_PACKAGE = Path(__file__).resolve().parents[3] / "app" / "notifications"


@pytest.fixture
def people(make_user, make_agency):
    make_agency("HOUSING", "housing")
    return SimpleNamespace(
        chair=make_user("coordinator", "COUNCIL", panels=("marac",)),
        police_member=make_user("panel_member", "POLICE", panels=("marac",)),
        health_member=make_user("panel_member", "HEALTH", panels=("marac",)),
        police=make_user("practitioner", "POLICE"),
        asb_chair=make_user("coordinator", "COUNCIL", panels=("asb_case_review",)),
        admin=make_user("admin", "COUNCIL"),
        analyst=make_user("analyst", "COUNCIL"),
    )


def keys(kind: str | None = None) -> set[str]:
    _db.session.expire_all()
    stmt = select(Notification.key)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return set(_db.session.scalars(stmt))


def mails(**where) -> list[OutboxMail]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(OutboxMail).filter_by(**where).order_by(OutboxMail.id)))


def queue(users, count: int = 1) -> list[OutboxMail]:
    """Notify each user ``count`` times (distinct things), committed; return the outbox rows."""
    for n in range(count):
        notify(users, ACTION_ASSIGNED, f"test-{n}", f"An action for MARAC-{n:06d} was agreed.", f"/cases/{n + 1}")
    _db.session.commit()
    return mails()


@pytest.fixture
def mail_settings(app, monkeypatch):
    """Point the app at a mail server on a port (no STARTTLS: the test server speaks plain SMTP); restored after."""
    def point_at(port: int, **extra) -> None:
        for key, value in {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
                           "MAIL_USE_SSL": False, "MAIL_RETRY_SECONDS": 0, **extra}.items():
            monkeypatch.setitem(app.config, key, value)
    return point_at


# --- notify() and the recipients ------------------------------------------------------------------------------

def test_notify_tells_each_enabled_person_once_however_often_it_is_called(app, people, make_user):
    gone = make_user("panel_member", "POLICE", panels=("marac",))
    gone.is_enabled = False
    _db.session.commit()
    users = [people.chair, people.police_member, gone, people.chair]
    first = notify(users, ACTION_ASSIGNED, "41", "An action for MARAC-000041 was agreed.", "/cases/41")
    _db.session.commit()
    again = notify(users, ACTION_ASSIGNED, "41", "An action for MARAC-000041 was agreed.", "/cases/41")
    _db.session.commit()
    assert (first, again) == (2, 0)
    assert keys() == {f"action_assigned:41:{people.chair.id}", f"action_assigned:41:{people.police_member.id}"}
    outbox = mails()
    assert sorted(m.to_address for m in outbox) == sorted([people.chair.email, people.police_member.email])
    assert {m.status for m in outbox} == {"pending"} and all(m.notification_id for m in outbox)
    assert notify([people.chair], ACTION_ASSIGNED, "42", "Another action.", "/cases/41") == 1  # a new thing: told


@pytest.mark.parametrize("change", [
    {"kind": "gossip"},
    {"target": "https://elsewhere.example/cases/1"},
    {"target": "//elsewhere.example/cases/1"},
    {"target": "cases/1"},
    {"message": ""},
    {"message": "x" * 301},
    {"about": "y" * 200},
])
def test_notify_refuses_parts_that_would_be_a_bug_and_writes_nothing(app, people, change):
    parts = {"kind": ACTION_ASSIGNED, "about": "1", "message": "An action was agreed.", "target": "/cases/1", **change}
    with pytest.raises(ValueError):
        notify([people.chair], parts["kind"], parts["about"], parts["message"], parts["target"])
    _db.session.rollback()
    assert keys() == set() and mails() == []


def test_recipients_are_the_agencys_panel_members_or_else_the_coordinators(app, people, make_user, make_agency):
    housing = make_agency("HOUSING", "housing")
    police_agency = people.police_member.agency
    second = make_user("panel_member", "POLICE", panels=("marac",))
    gone = make_user("panel_member", "POLICE", panels=("marac",))
    gone.is_enabled = False
    make_user("panel_member", "POLICE", panels=("asb_case_review",))  # another panel's seat
    _db.session.commit()
    def ids(found) -> list[int]:
        return [p.id for p in found]
    assert ids(representatives("marac", police_agency.id)) == [people.police_member.id, second.id]
    assert ids(representatives("marac", housing.id)) == [people.chair.id]  # nobody from housing sits on MARAC
    assert ids(coordinators("marac")) == [people.chair.id]
    assert ids(coordinators("asb_case_review")) == [people.asb_chair.id]
    directory = Directory()  # the sweep's one-query version answers the same
    for panel in ("marac", "asb_case_review"):
        assert ids(directory.coordinators(panel)) == ids(coordinators(panel))
        for agency in (police_agency, housing, people.health_member.agency):
            assert ids(directory.representatives(panel, agency.id)) == ids(representatives(panel, agency.id))
    meeting = meeting_on(people.chair, TODAY + timedelta(days=7))  # seats every enabled MARAC member
    assert ids(seat_holders(meeting)) == sorted([people.police_member.id, people.health_member.id, second.id])


def test_emails_carry_no_name_and_no_case_reference(app, people, make_referral, mail_settings):
    fake = Faker("en_GB")
    fake.seed_instance(6)
    forename, surname = fake.first_name(), fake.last_name()
    case = list_case(make_referral(people.police, forename=forename, surname=surname), people.chair,
                     meeting_on(people.chair, TODAY))
    step(case, people.chair, "hear", data={"actions": [
        {"owner_agency": "POLICE", "text": f"Visit {forename} {surname} at home", "due_on": TODAY.isoformat()}]})
    _db.session.add(Action(case_id=case.id, owner_agency_id=people.health_member.agency_id,
                           due_on=TODAY - timedelta(days=2)))
    notify([people.chair], ACTION_ASSIGNED, str(case.id), f"An action for {case.reference} was agreed.",
           f"/cases/{case.id}")
    _db.session.commit()
    assert send_reminders(NOW).startswith("3 reminders")
    outbox = mails()
    # Assigned to the police member (at the hearing) and to the chair; due soon to the police member; overdue to
    # health and the chair.
    assert len(outbox) == 5
    in_app = " ".join(_db.session.scalars(select(Notification.message)))
    assert case.reference in in_app and forename not in in_app and surname not in in_app
    with smtp_server() as (mailbox, port):
        mail_settings(port)
        assert deliver_pending(NOW).startswith("5 mails sent")
    wire = [r.message.as_string() for r in mailbox.received]
    assert len(wire) == 5
    for text in [m.subject + "\n" + m.body for m in outbox] + wire:
        for secret in (forename, surname, case.reference, f"{case.id:06d}", f"/cases/{case.id}", "Visit"):
            assert secret not in text, (secret, text)
        assert re.search(r"http://127\.0\.0\.1:5000/notifications/\d+", text)


# --- the pages --------------------------------------------------------------------------------------------------

def test_the_list_shows_the_newest_first_and_the_header_counts_the_unread(app, people):
    for n, message in enumerate(("First: an action was agreed.", "Second: an action is due.", "Third: overdue.")):
        notify([people.chair], ACTION_ASSIGNED, str(n), message, f"/cases/{n + 1}")
    notify([people.police_member], ACTION_ASSIGNED, "9", "Someone else's news.", "/cases/9")
    _db.session.commit()
    browser = sign_in(app, people.chair)
    page = browser.get("/notifications").get_data(as_text=True)
    assert page.index("Third: overdue.") < page.index("Second: an action is due.") < page.index("First: an action")
    assert "Someone else&#39;s news." not in page and "Someone else's news." not in page
    assert page.count(">Unread</strong>") == 3 and "Notifications (3 new)" in page
    assert "Mark all as read" in page
    assert audit_rows(action="notification.list", user_id=people.chair.id)
    other = browser.get("/cases").get_data(as_text=True)
    assert "Notifications (3 new)" in other  # on every page, in the header
    analyst = sign_in(app, people.analyst).get("/notifications")
    assert analyst.status_code == 200 and "You have no notifications" in analyst.get_data(as_text=True)
    assert "Notifications (" not in analyst.get_data(as_text=True)


def test_the_list_pages_through_older_notifications(app, people):
    for n in range(55):
        notify([people.chair], ACTION_ASSIGNED, str(n), f"Item number {n:02d}.", "/cases/1")
    _db.session.commit()
    browser = sign_in(app, people.chair)
    first = browser.get("/notifications").get_data(as_text=True)
    assert "Item number 54." in first and "Item number 04." not in first and "Older notifications" in first
    second = browser.get("/notifications?page=2").get_data(as_text=True)
    assert "Item number 04." in second and "Item number 54." not in second and "Newer notifications" in second
    for query in ("?page=-3", "?page=abc", "?page=99999999999"):
        assert browser.get("/notifications" + query).status_code == 200


def test_opening_a_notification_marks_it_read_and_goes_to_its_page(app, people):
    notify([people.chair], ACTION_OVERDUE, "7:2026-03-02", "An action for MARAC-000007 is overdue.",
           "/cases/7/actions/3")
    _db.session.commit()
    note = _db.session.scalar(select(Notification))
    browser = sign_in(app, people.chair)
    response = browser.get(f"/notifications/{note.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/cases/7/actions/3"
    _db.session.expire_all()
    assert _db.session.get(Notification, note.id).read_at is not None
    page = browser.get("/notifications").get_data(as_text=True)
    assert ">Read</strong>" in page and "Notifications (" not in page and "Mark all as read" not in page
    assert audit_rows(action="notification.open", user_id=people.chair.id)


def test_someone_elses_notification_is_404_and_the_attempt_is_audited(app, people):
    notify([people.police_member], ACTION_DUE_SOON, "3:2026-03-02", "An action for MARAC-000003 is due.", "/cases/3")
    _db.session.commit()
    note = _db.session.scalar(select(Notification))
    browser = sign_in(app, people.chair)
    assert browser.get(f"/notifications/{note.id}").status_code == 404
    assert browser.get(f"/notifications/{UNKNOWN_ID}").status_code == 404
    _db.session.expire_all()
    assert _db.session.get(Notification, note.id).read_at is None
    denied = audit_rows(action="notification.denied", user_id=people.chair.id)
    assert [r.detail for r in denied] == [f"notification={note.id}", f"notification={UNKNOWN_ID}"]


@pytest.mark.parametrize("target", ["//elsewhere.example/cases", "/\\elsewhere.example", "https://elsewhere.example/",
                                    "/\t/elsewhere.example", "javascript:alert(1)", "", "cases/1",
                                    "/ /elsewhere.example"])
def test_a_target_outside_the_service_is_never_followed(app, people, target):
    assert not is_local_path(target)
    # Written around notify(), which refuses such targets: as if a row had been tampered with.
    _db.session.add(Notification(user_id=people.chair.id, kind=ACTION_ASSIGNED, key="odd", message="Odd.",
                                 target=target))
    _db.session.commit()
    note = _db.session.scalar(select(Notification))
    response = sign_in(app, people.chair).get(f"/notifications/{note.id}")
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"


def test_local_paths_are_followed():
    assert is_local_path("/cases/1") and is_local_path("/cases/1/actions/2?x=1#part") and is_local_path("/")


def test_mark_all_as_read_needs_the_form_and_reads_only_ones_own(app, people):
    for n in range(3):
        notify([people.chair, people.police_member], ACTION_ASSIGNED, str(n), "An action was agreed.", "/cases/1")
    _db.session.commit()
    browser = sign_in(app, people.chair)
    assert browser.post("/notifications/read", data={"csrf_token": "forged"}).status_code == 400
    assert _db.session.scalar(select(func.count()).where(Notification.read_at.is_not(None))) == 0
    response = post_form(browser, "/notifications/read", {}, form_path="/notifications")
    assert response.status_code == 302
    assert "3 notifications marked as read." in browser.get("/notifications").get_data(as_text=True)
    _db.session.expire_all()
    read = dict(_db.session.execute(select(Notification.user_id, func.count()).where(Notification.read_at.is_not(None))
                                    .group_by(Notification.user_id)).all())
    assert read == {people.chair.id: 3}
    assert browser.get("/notifications/read").status_code == 405


def test_the_outbox_page_is_for_administrators_only(app, people):
    queue([people.chair, people.police_member])
    chairs = mails(to_address=people.chair.email)[0]
    _db.session.execute(update(OutboxMail).where(OutboxMail.id == chairs.id)
                        .values(status="failed", attempts=5, last_error="SMTPDataError: 554 rejected"))
    _db.session.commit()
    admin = sign_in(app, people.admin)
    page = admin.get("/admin/outbox").get_data(as_text=True)
    assert people.chair.email in page and people.police_member.email in page
    assert "SMTPDataError: 554 rejected" in page and "Send again" in page
    failed = admin.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert people.chair.email in failed and people.police_member.email not in failed
    assert admin.get("/admin/outbox?status=<script>").status_code == 200
    assert "Mail outbox" in admin.get("/admin/users").get_data(as_text=True)
    assert audit_rows(action="admin.outbox_list", user_id=people.admin.id)
    for who in (people.chair, people.analyst, people.police):
        browser = sign_in(app, who)
        assert browser.get("/admin/outbox").status_code == 404
        token = csrf_token(browser, "/notifications")
        assert browser.post(f"/admin/outbox/{chairs.id}/send-again",
                            data={"csrf_token": token}).status_code == 404
    assert mails(status="failed")[0].attempts == 5


def test_an_administrator_sends_a_failed_mail_again(app, people):
    failed, sent = queue([people.chair, people.police_member])
    _db.session.execute(update(OutboxMail).where(OutboxMail.id == failed.id)
                        .values(status="failed", attempts=5, last_error="SMTPDataError: 554 rejected"))
    _db.session.execute(update(OutboxMail).where(OutboxMail.id == sent.id).values(status="sent", attempts=1))
    _db.session.commit()
    admin = sign_in(app, people.admin)
    token = csrf_token(admin, "/admin/outbox")
    assert admin.post(f"/admin/outbox/{failed.id}/send-again", data={}).status_code == 400  # no token
    response = admin.post(f"/admin/outbox/{failed.id}/send-again", data={"csrf_token": token})
    assert response.status_code == 302
    again = mails(id=failed.id)[0]
    assert (again.status, again.attempts, again.last_error) == ("pending", 0, "SMTPDataError: 554 rejected")
    assert [r.detail for r in audit_rows(action="admin.outbox_retry")] == [f"mail={failed.id}"]
    assert admin.post(f"/admin/outbox/{sent.id}/send-again", data={"csrf_token": token}).status_code == 302
    assert "Only a mail that failed" in admin.get("/admin/outbox").get_data(as_text=True)
    assert mails(id=sent.id)[0].status == "sent"
    assert admin.post(f"/admin/outbox/{UNKNOWN_ID}/send-again", data={"csrf_token": token}).status_code == 404
    assert admin.get(f"/admin/outbox/{failed.id}/send-again").status_code == 405


# --- the reminder sweep -----------------------------------------------------------------------------------------

def _asb_application(applied) -> dict:
    complaints = [(applied - timedelta(days=d + 2), applied - timedelta(days=d), agency)
                  for d, agency in ((10, "Police"), (20, "Northshire Council"), (30, "Northshire Homes"))]
    return {"panel": "asb_case_review", "referred_on": applied.isoformat(),
            "subject": {"forename": "Harriet", "surname": "Okafor", "date_of_birth": "1971-09-14",
                        "address": "4 Mill Lane, Northshire"},
            "details": {"applicant": {"kind": "individual", "on_behalf": False, "consent_recorded": False},
                        "complaints": [{"incident_on": i.isoformat(), "reported_on": r.isoformat(), "agency": a}
                                       for i, r, a in complaints],
                        "neighbourhood": "Riverside"}}


@pytest.fixture
def due_things(app, people, make_referral, make_agency):
    """A MARAC case with actions due at various times, and an ASB application with its statutory deadlines."""
    housing = make_agency("HOUSING", "housing")
    case = make_referral(people.police)
    police, health = people.police_member.agency_id, people.health_member.agency_id

    def action(agency_id, days, status="open"):
        item = Action(case_id=case.id, owner_agency_id=agency_id, due_on=TODAY + timedelta(days=days), status=status)
        _db.session.add(item)
        return item
    things = SimpleNamespace(case=case, soon=action(police, 2), later=action(police, 10), overdue=action(health, -1),
                             unowned=action(housing.id, 0), done=action(police, -3, status="complete"))
    council = app.extensions["panels"]  # the ASB application goes through the real intake (its deadlines open)
    things.asb = refer(council, _asb_application(TODAY - timedelta(days=1)), people.police, now=NOW)
    _db.session.flush()
    deadlines = {d.kind: d for d in _db.session.scalars(select(Deadline).where(Deadline.case_id == things.asb.id))}
    assert {"acknowledge", "threshold_decision"} <= set(deadlines)
    deadlines["acknowledge"].due_on = add_working_days(TODAY, 2)  # near
    deadlines["threshold_decision"].due_on = add_working_days(TODAY, 3)  # not yet
    things.acknowledge = deadlines["acknowledge"]
    things.threshold = deadlines["threshold_decision"]
    # A deadline the scheduler carries out itself (MARAC's repeat flag expires on its own): never a reminder.
    _db.session.add(Deadline(case_id=case.id, state="closed", kind="repeat_flag", due_on=TODAY, opened_at=NOW))
    _db.session.commit()
    return things


def test_each_reminder_goes_once_however_often_the_sweep_runs(app, people, due_things):
    t = due_things
    first = send_reminders(NOW)
    assert first == "5 reminders: 2 actions due soon, 2 overdue, 1 deadlines near"
    assert send_reminders(NOW) == "0 reminders: 0 actions due soon, 0 overdue, 0 deadlines near"
    assert send_reminders(NOW + timedelta(hours=6)).startswith("0 reminders")
    soon, overdue, unowned = (f"{a.id}:{a.due_on.isoformat()}" for a in (t.soon, t.overdue, t.unowned))
    assert keys(ACTION_DUE_SOON) == {f"action_due_soon:{soon}:{people.police_member.id}",
                                     f"action_due_soon:{unowned}:{people.chair.id}"}  # nobody from housing: the chair
    assert keys(ACTION_OVERDUE) == {f"action_overdue:{overdue}:{people.health_member.id}",
                                    f"action_overdue:{overdue}:{people.chair.id}"}
    assert keys(DEADLINE_NEAR) == {f"deadline_near:{t.acknowledge.id}:{people.asb_chair.id}"}
    assert len(mails()) == 5
    near = _db.session.scalar(select(Notification).where(Notification.kind == DEADLINE_NEAR))
    assert near.message.startswith(f"Acknowledge the application for {t.asb.reference} by ")
    assert near.target == f"/cases/{t.asb.id}"
    due = _db.session.scalar(select(Notification).where(Notification.key.startswith(f"action_due_soon:{soon}")))
    assert due.target == f"/cases/{t.case.id}/actions/{t.soon.id}" and t.case.reference in due.message


def test_a_changed_due_date_reminds_again_and_time_moving_on_brings_the_next_reminders(app, people, due_things):
    t = due_things
    send_reminders(NOW)
    t.soon.due_on = TODAY + timedelta(days=3)
    _db.session.commit()
    assert send_reminders(NOW) == "1 reminders: 1 actions due soon, 0 overdue, 0 deadlines near"
    assert f"action_due_soon:{t.soon.id}:{t.soon.due_on.isoformat()}:{people.police_member.id}" in keys()
    later = NOW + timedelta(days=5)  # the moved action is now overdue; so is the one nobody from housing owns
    outcome = send_reminders(later)
    overdue = keys(ACTION_OVERDUE)
    assert f"action_overdue:{t.soon.id}:{t.soon.due_on.isoformat()}:{people.police_member.id}" in overdue
    assert f"action_overdue:{t.soon.id}:{t.soon.due_on.isoformat()}:{people.chair.id}" in overdue
    assert f"action_overdue:{t.unowned.id}:{t.unowned.due_on.isoformat()}:{people.chair.id}" in overdue
    assert f"deadline_near:{t.threshold.id}:{people.asb_chair.id}" in keys(DEADLINE_NEAR)
    assert outcome == "4 reminders: 0 actions due soon, 3 overdue, 1 deadlines near"
    assert send_reminders(later).startswith("0 reminders")


def test_reminders_skip_closed_deadlines_and_finished_actions(app, people, due_things):
    t = due_things
    _db.session.execute(update(Deadline).where(Deadline.id == t.acknowledge.id).values(closed_at=NOW))
    _db.session.execute(update(Action).values(status="complete"))
    _db.session.commit()
    assert send_reminders(NOW) == "0 reminders: 0 actions due soon, 0 overdue, 0 deadlines near"


def test_the_reminder_reference_is_the_case_reference(app, people, make_referral):
    case = make_referral(people.police)
    assert case_reference(case.panel, case.id) == case.reference


def test_the_notifications_package_knows_no_panel_by_name(app):
    source = " ".join(path.read_text().lower() for path in NOTIFICATIONS_PACKAGE.glob("*.py"))
    for key in app.extensions["panels"]:
        assert key not in source and key.replace("_", " ") not in source


# --- the mail outbox over a real SMTP server --------------------------------------------------------------------

def test_with_no_mail_server_mail_waits_in_the_outbox(app, people):
    queue([people.chair, people.police_member])
    assert app.config["MAIL_SERVER"] is None
    assert deliver_pending(NOW) == "no mail server (MAIL_SERVER is not set): 2 mails kept in the outbox"
    assert [(m.status, m.attempts, m.last_error) for m in mails()] == [("pending", 0, None)] * 2


def test_the_outbox_keeps_mail_while_the_server_is_down_and_sends_each_once_when_it_is_back(app, people,
                                                                                              mail_settings):
    outbox = queue([people.chair, people.police_member], count=2)
    mail_settings(free_port())  # nothing listens there
    for attempt in (1, 2):
        outcome = deliver_pending(NOW)
        assert outcome.startswith("0 mails sent, 0 failed; stopped, the mail server is unavailable "
                                  "(ConnectionRefusedError"), outcome
        assert outcome.endswith(": 4 mails wait")
        first, *others = mails()
        assert (first.status, first.attempts) == ("pending", attempt)
        assert first.last_error.startswith("ConnectionRefusedError: ")
        assert [(m.status, m.attempts) for m in others] == [("pending", 0)] * 3  # one refusal stops the run
    with smtp_server() as (mailbox, port):
        mail_settings(port)
        assert deliver_pending(NOW) == "4 mails sent, 0 failed"
        assert deliver_pending(NOW) == "0 mails sent, 0 failed"
    received = mailbox.received
    assert sorted(r.recipients[0] for r in received) == sorted(m.to_address for m in outbox)
    ids = [r.message["Message-ID"] for r in received]
    assert len(set(ids)) == 4 and all(i.startswith("<outbox.") for i in ids)
    assert {r.message["Subject"] for r in received} == {"An action has been given to your agency"}
    assert all(r.message["Auto-Submitted"] == "auto-generated" for r in received)
    sent = mails()
    assert {m.status for m in sent} == {"sent"} and all(m.sent_at for m in sent)
    assert [m.attempts for m in sent] == [3, 1, 1, 1]


def test_a_refused_recipient_fails_that_mail_only_and_is_given_up_after_the_last_attempt(app, people, make_user,
                                                                                          mail_settings):
    refused = make_user("panel_member", "POLICE", panels=("marac",), email="refused.member@police.example")
    queue([refused, people.chair])
    with smtp_server(refuse="refused") as (mailbox, port):
        mail_settings(port, MAIL_MAX_ATTEMPTS=2)
        assert deliver_pending(NOW) == "1 mails sent, 1 failed"
        bad = mails(to_address=refused.email)[0]
        assert (bad.status, bad.attempts) == ("pending", 1)
        assert bad.last_error == "SMTPRecipientsRefused: 550 5.1.1 No such mailbox here"
        assert deliver_pending(NOW) == "0 mails sent, 1 failed"
        assert deliver_pending(NOW) == "0 mails sent, 0 failed"
    bad = mails(to_address=refused.email)[0]
    assert (bad.status, bad.attempts) == ("failed", 2)
    assert [r.recipients for r in mailbox.received] == [(people.chair.email,)]


def test_a_failed_mail_waits_longer_before_each_new_attempt(app, people, mail_settings):
    queue([people.chair])
    mail_settings(free_port(), MAIL_RETRY_SECONDS=3600)
    deliver_pending(NOW)
    assert deliver_pending(NOW) == "0 mails sent, 0 failed"  # not yet: an hour after the first failure
    _db.session.execute(update(OutboxMail).values(claimed_at=utcnow() - timedelta(minutes=61)))
    _db.session.commit()
    deliver_pending(NOW)
    assert mails()[0].attempts == 2
    _db.session.execute(update(OutboxMail).values(claimed_at=utcnow() - timedelta(minutes=61)))
    _db.session.commit()
    deliver_pending(NOW)
    assert mails()[0].attempts == 2  # two hours after the second


def test_a_claim_left_by_a_stopped_process_is_released_and_the_mail_sent(app, people, mail_settings):
    queue([people.chair, people.police_member])
    stuck, fresh_claim = mails(to_address=people.chair.email)[0], mails(to_address=people.police_member.email)[0]
    _db.session.execute(update(OutboxMail).where(OutboxMail.id == stuck.id)
                        .values(status="sending", attempts=1, claimed_at=utcnow() - timedelta(minutes=11)))
    _db.session.execute(update(OutboxMail).where(OutboxMail.id == fresh_claim.id)
                        .values(status="sending", attempts=1, claimed_at=utcnow() - timedelta(minutes=1)))
    _db.session.commit()
    with smtp_server() as (mailbox, port):
        mail_settings(port)
        assert deliver_pending(NOW) == "1 mails sent, 0 failed, 1 abandoned claims released"
    assert [r.recipients for r in mailbox.received] == [(people.chair.email,)]
    assert mails(id=stuck.id)[0].last_error == PROCESS_STOPPED
    assert mails(id=fresh_claim.id)[0].status == "sending"  # another process may still be sending that one


def test_two_deliveries_at_once_send_each_mail_once(app, people, make_user, mail_settings):
    members = [make_user("panel_member", "POLICE", panels=("marac",)) for _ in range(5)]
    queue(members, count=6)
    barrier = threading.Barrier(2)
    outcomes = []

    def deliver() -> None:
        with app.app_context():
            barrier.wait()
            outcomes.append(deliver_pending(NOW))
            _db.session.remove()
    with smtp_server() as (mailbox, port):
        mail_settings(port)
        threads = [threading.Thread(target=deliver) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    ids = [r.message["Message-ID"] for r in mailbox.received]
    assert len(ids) == len(set(ids)) == 30, outcomes
    assert sum(int(o.split()[0]) for o in outcomes) == 30
    assert {m.status for m in mails()} == {"sent"}


def test_case_rows_are_untouched_by_the_sweep(app, people, due_things):
    before = _db.session.execute(select(Case.id, Case.version, Case.state)).all()
    send_reminders(NOW)
    assert _db.session.execute(select(Case.id, Case.version, Case.state)).all() == before

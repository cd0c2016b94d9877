"""Helpers for the app tests: signed-in clients, the forms pages render, and cases moved on by the real services."""
from __future__ import annotations

import csv
import hashlib
import io
import re
from datetime import date, datetime, time, timedelta
from html.parser import HTMLParser

import pyotp
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.auth.models import UserSession
from app.auth.second_factor import time_step
from app.auth.sessions import COOKIE_ENTRY
from app.cases.services import take_step
from app.core.audit import AuditEvent
from app.core.extensions import db
from app.core.models import Case, User
from app.meetings.agenda import create_meeting
from app.meetings.models import Meeting, MeetingMember
from tests.conftest import PASSWORD, complete_sign_in, csrf_token
from workflows.models import CaseTransition

UNKNOWN_ID = 987_654


class _Forms(HTMLParser):
    """Read a page's forms as a browser would submit them untouched: (action, [(name, value), ...], names)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]], set[str]]] = []
        self._form = None
        self._textarea = self._select = None
        self._options: list[tuple[str, bool]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._form = (attrs.get("action") or "", [], set())
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        _, pairs, names = self._form
        name = attrs.get("name")
        if tag == "input" and name:
            names.add(name)
            kind = (attrs.get("type") or "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    pairs.append((name, attrs.get("value") or "on"))
            elif kind not in ("submit", "button", "image", "reset", "file"):
                pairs.append((name, attrs.get("value") or ""))
        elif tag == "textarea" and name:
            names.add(name)
            self._textarea = [name, ""]
        elif tag == "select" and name:
            names.add(name)
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attrs.get("value") or "", "selected" in attrs))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            name, text = self._textarea
            self._form[1].append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select and self._form is not None:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            self._form[1].extend((self._select, v) for v in chosen[:1])
            self._select = None


def forms_on(html: str) -> list[tuple[str, list[tuple[str, str]], set[str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_fields(html: str) -> dict[str, list[str]]:
    """Return {field name: [values a browser would send]} for the fields of every form on the page."""
    fields: dict[str, list[str]] = {}
    for _, pairs, names in forms_on(html):
        for name in names:
            fields.setdefault(name, [])
        for name, value in pairs:
            fields[name].append(value)
    return fields


def sign_in(app, user, password: str = PASSWORD):
    """Return a fresh test client signed in as the user, with both factors (each client is its own browser)."""
    return complete_sign_in(app.test_client(), user, password)


def page_text(browser, path: str) -> str:
    """GET a page that must answer 200 and return its HTML."""
    response = browser.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def submit(browser, path: str, data: dict, *, form_path: str | None = None):
    """Load the page with the form (`path`, or `form_path`), fill in `data` as a person would, and submit it.

    Every other field goes back as the page rendered it (hidden version and CSRF token, blank date boxes), just
    as a browser sends them; naming a field the form does not have fails the test.
    """
    page = browser.get(form_path or path)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    forms = [f for f in forms_on(page.get_data(as_text=True)) if f[0] in ("", path)]
    assert len(forms) == 1, f"{form_path or path} has {len(forms)} forms posting to {path}"
    _, pairs, names = forms[0]
    missing = set(data) - names
    assert not missing, f"{form_path or path} renders no field named {sorted(missing)}"
    body = MultiDict([(k, v) for k, v in pairs if k not in data])
    for name, value in data.items():
        for item in value if isinstance(value, list) else [value]:
            body.add(name, item)
    return browser.post(path, data=body)


def gov_date(day: date) -> list[str]:
    """A GOV.UK date input's three boxes (day, month, year), which all carry the field's name."""
    return [str(day.day), str(day.month), str(day.year)]


def without_csrf(html: str) -> str:
    """Drop the CSRF token values (signed with a timestamp, so they differ between responses)."""
    return re.sub(r'name="csrf_token"( type="hidden")? value="[^"]*"', 'name="csrf_token"', html)


def meeting_on(chair, day: date, *, at: time = time(10, 0), venue: str = "Civic Centre, Room 2") -> Meeting:
    """Create a MARAC meeting with the real service (every panel member of MARAC is invited)."""
    meeting = create_meeting("marac", datetime.combine(day, at), datetime.combine(day - timedelta(days=1), time(17)),
                             180, venue, chair)
    db.session.commit()
    return meeting


def step(case: Case, user, trigger: str, **kwargs) -> Case:
    """Take a workflow step as the user, through the service the pages and API call, and commit."""
    db.session.refresh(case)
    take_step(user, case, trigger, version=case.version, **kwargs)
    db.session.commit()
    return case


def list_case(case: Case, chair, meeting: Meeting) -> Case:
    """Accept a received referral and list it on the meeting."""
    step(case, chair, "accept")
    return step(case, chair, "list", data={"meeting_id": meeting.id})


def seat(meeting: Meeting, user) -> None:
    db.session.add(MeetingMember(meeting_id=meeting.id, user_id=user.id))
    db.session.commit()


def unseat(meeting: Meeting, user) -> None:
    db.session.delete(db.session.get(MeetingMember, (meeting.id, user.id)))
    db.session.commit()


def audit_rows(**where) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).filter_by(**where).order_by(AuditEvent.id)))


def case_state(case_id: int) -> tuple[str, int]:
    """Read the case's state and version afresh from the database."""
    db.session.expire_all()
    row = db.session.execute(select(Case.state, Case.version).where(Case.id == case_id)).one()
    return row.state, row.version


def transition_count(case_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count(CaseTransition.id)).where(CaseTransition.case_id == case_id))


# --- sign-in -------------------------------------------------------------------------------------------------

def code_at(user, moment: datetime) -> str:
    """The code the user's authenticator app shows at a moment (naive UTC)."""
    db.session.expire_all()
    secret = db.session.get(User, user.id).totp_secret
    return pyotp.TOTP(secret).generate_otp(time_step(moment))


def password_step(browser, user, password: str = PASSWORD):
    """Sign-in step 1 only: the browser is half signed in, a second factor still due."""
    return browser.post("/sign-in", data={"email": user.email, "password": password,
                                          "csrf_token": csrf_token(browser)})


def post_form(browser, path: str, data: dict, *, form_path: str | None = None):
    """Post a form the way its page (``path``, or ``form_path``) would, with that page's CSRF token."""
    return browser.post(path, data={**data, "csrf_token": csrf_token(browser, form_path or path)})


def session_row(browser) -> UserSession | None:
    """The server-side session behind the browser's cookie."""
    with browser.session_transaction() as cookie:
        token = cookie.get(COOKIE_ENTRY)
    db.session.expire_all()
    if token is None:
        return None
    return db.session.scalar(select(UserSession).where(
        UserSession.token_hash == hashlib.sha256(token.encode()).hexdigest()))


def age_session(browser, **ago: timedelta) -> None:
    """Move the browser's session timestamps into the past (created_at=..., last_seen_at=..., authenticated_at=...),
    as if that much time had gone by."""
    row = session_row(browser)
    for column, delta in ago.items():
        setattr(row, column, getattr(row, column) - delta)
    db.session.commit()


def session_cookie(app, browser) -> str:
    return browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def browser_with_cookie(app, value: str):
    """A different browser (same User-Agent) given a copy of a session cookie, as a thief would use it."""
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return thief


def is_signed_in(browser) -> bool:
    response = browser.get("/account")
    return response.status_code == 200


def read_csv(response) -> list[list[str]]:
    """The rows of a CSV download as a spreadsheet would read them (UTF-8 with a byte-order mark)."""
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), body[:20]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def search_cases(browser, **fields):
    """Fill in "Find a case" on the case list as a person would (reference=..., or forename, surname and
    date_of_birth as gov_date boxes) and submit it."""
    return submit(browser, "/cases/search", fields, form_path="/cases")


def references_on(html: str) -> list[str]:
    """The case references a page links to, in page order."""
    return re.findall(r'href="/cases/\d+">([A-Z_]+-\d{6})</a>', html)


def open_link(browser, link: str):
    """Follow a one-time password link as a person does: open it (the browser sends the address without the part
    after "#", and changes nothing), then Continue, which POSTs the code the page's script took from after "#"."""
    path, _, token = link.partition("#")
    page = browser.get(path)
    assert page.status_code == 200 and "Set your password" in page.get_data(as_text=True)
    return post_form(browser, path, {"token": token})


def emailed_link(address: str) -> str:
    """The one-time link (path and "#code") in the latest email to the address, from the mail outbox."""
    from app.notifications.models import OutboxMail
    db.session.expire_all()
    mail = db.session.scalar(select(OutboxMail).where(OutboxMail.to_address == address.lower())
                             .order_by(OutboxMail.id.desc()).limit(1))
    assert mail is not None, f"no email to {address}"
    match = re.search(r"http://127\.0\.0\.1:5000(/account/link#[A-Za-z0-9_-]+)", mail.body)
    assert match, mail.body
    return match.group(1)

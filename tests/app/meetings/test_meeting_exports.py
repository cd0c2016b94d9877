"""Downloads of a meeting's papers (agenda and minutes as PDF and standalone HTML) and its calendar event.

A paper holds exactly what its reader may see on the pages (need-to-know: a case their agency may not open is a
"Restricted" row), case references and never a subject's name; it needs both factors proved recently, is never
cached, is named by the meeting's date only, and is audited per case with the download, in one transaction.
"""
from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import pytest
from icalendar import Calendar
from pypdf import PdfReader

from app.core.extensions import db as _db
from app.core.timeutil import today, utcnow
from app.meetings.models import AgendaItem, Meeting
from app.meetings.papers_document import Document, Section, Table
from app.meetings.pdf import REPLACEMENT, printable, render, supported
from tests.app.core.test_audit import audit_sink_down, refused_for_the_sink
from tests.app.support import (
    age_session,
    audit_rows,
    list_case,
    meeting_on,
    post_form,
    seat,
    sign_in,
    step,
    unseat,
)
from tests.conftest import PASSWORD, next_code

TODAY = today()
PAPERS = ("agenda.pdf", "agenda.html", "minutes.pdf", "minutes.html")
NAMES = ("Gwenllian", "ap Rhys", "Dafydd", "Llewelyn")
HOSTILE = "<script>alert(1)</script>"


@dataclass
class Meet:
    app: object
    chair: object
    guest: object  # a panel member seated from an agency that is not a member of the meeting
    member: object  # a panel member seated from a member agency: sees every case
    outsider: object  # a panel member of the panel with no seat
    meeting: Meeting
    seen: object  # referred by the guest's agency: the guest may open it
    hidden: object  # referred by another agency: restricted for the guest
    browsers: dict = field(default_factory=dict)

    def path(self, name: str) -> str:
        return f"/meetings/{self.meeting.id}/{name}"

    def browser(self, user):
        """One signed-in browser per person (each sign-in spends an authenticator code: three a 30-second step)."""
        if user.id not in self.browsers:
            self.browsers[user.id] = sign_in(self.app, user)
        return self.browsers[user.id]

    def get(self, user, name: str):
        return self.browser(user).get(self.path(name))


@pytest.fixture
def meet(app, db, make_user, make_agency, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    meeting = meeting_on(chair, TODAY)  # nobody is on the panel yet, so nobody is seated
    meeting.agencies = [make_agency("POLICE", "police")]
    db.session.commit()
    guest, member = make_user("panel_member", "HEALTH", panels=("marac",)), make_user("panel_member", "POLICE",
                                                                                      panels=("marac",))
    seat(meeting, guest)
    seat(meeting, member)
    outsider = make_user("panel_member", "HOUSING", panels=("marac",))
    seen = list_case(make_referral(make_user("practitioner", "HEALTH"), forename="Gwenllian", surname="ap Rhys"),
                     chair, meeting)
    hidden = list_case(make_referral(make_user("practitioner", "HOUSING"), forename="Dafydd", surname="Llewelyn"),
                       chair, meeting)
    return Meet(app, chair, guest, member, outsider, meeting, seen, hidden)


def pdf_text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_data().startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(response.get_data()))
    assert len(reader.pages) >= 1
    return "\n".join(page.extract_text() for page in reader.pages)


def issue_minutes(meet: Meet) -> None:
    meeting = _db.session.get(Meeting, meet.meeting.id)
    meeting.minutes_issued_at = utcnow()
    _db.session.commit()


def hear(meet: Meet, case, **action) -> None:
    step(case, meet.chair, "hear", data={"actions": [{"owner_agency": "HEALTH", "text": "Flag the GP record",
                                                      "due_on": str(TODAY + timedelta(days=9)), **action}]})


# --- what a paper holds ----------------------------------------------------------------------------------------

def test_the_agenda_pdf_shows_the_guest_their_case_and_the_other_as_restricted(meet):
    text = pdf_text(meet.get(meet.guest, "agenda.pdf"))
    assert meet.seen.reference in text and meet.hidden.reference not in text
    assert "Restricted" in text and "MARAC meeting" in text and "Agenda for" in text
    assert "10:00" in text and "10:12" in text  # each row keeps its time, the restricted one too
    for name in NAMES:
        assert name not in text


@pytest.mark.parametrize("who", ["chair", "member"])
def test_the_coordinator_and_a_member_agency_see_every_case_on_the_agenda(meet, who):
    text = pdf_text(meet.get(getattr(meet, who), "agenda.pdf"))
    assert meet.seen.reference in text and meet.hidden.reference in text
    assert "Restricted" not in text
    for name in NAMES:
        assert name not in text


def test_the_agenda_html_is_a_standalone_attachment_with_the_same_rows(meet):
    response = meet.get(meet.guest, "agenda.html")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="agenda-{TODAY.isoformat()}.html"'
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert html.startswith("<!DOCTYPE html>")
    assert meet.seen.reference in html and meet.hidden.reference not in html
    assert '<tr class="restricted"><td>2</td><td>10:12</td><td>Restricted</td>' in html
    assert "<script" not in html.lower() and "<link" not in html.lower() and "src=" not in html
    assert "<style>" in html and "@media print" in html
    for name in NAMES:
        assert name not in html


def test_hostile_text_is_escaped_in_the_html_and_drawn_in_the_pdf(meet, db):
    meeting = db.session.get(Meeting, meet.meeting.id)
    meeting.venue = HOSTILE
    db.session.commit()
    for who in (meet.chair, meet.guest):
        html = meet.get(who, "agenda.html").get_data(as_text=True)
        assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script" not in html.lower()
    assert HOSTILE in pdf_text(meet.get(meet.chair, "agenda.pdf"))


def test_the_downloads_name_the_meeting_date_only(meet):
    day = TODAY.isoformat()
    issue_minutes(meet)
    for name in PAPERS + ("meeting.ics",):
        response = meet.get(meet.guest, name)
        kind, ext = name.split(".")
        expected = f"{'meeting' if ext == 'ics' else kind}-{day}.{ext}"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{expected}"', name
        assert response.headers["Cache-Control"] == "no-store"
        headers = str(response.headers)
        assert not any(n in headers for n in NAMES) and meet.seen.reference not in headers


def test_actions_carried_from_an_earlier_meeting_follow_need_to_know(meet, make_user, make_referral):
    earlier = meeting_on(meet.chair, TODAY - timedelta(days=10))
    unseat(earlier, meet.guest)  # the guest never sat on the meeting that agreed the action
    case = make_referral(make_user("practitioner", "HOUSING"), forename="Dafydd", surname="Llewelyn",
                         referred_on=TODAY - timedelta(days=20))
    step(case, meet.chair, "accept", occurred_on=TODAY - timedelta(days=20))
    step(case, meet.chair, "list", data={"meeting_id": earlier.id}, occurred_on=TODAY - timedelta(days=20))
    step(case, meet.chair, "hear", occurred_on=TODAY - timedelta(days=10), data={"actions": [
        {"owner_agency": "HOUSING", "text": "Fit a door alarm", "due_on": str(TODAY - timedelta(days=1))}]})
    # Agreed at the earlier meeting, so written then: an action written after this meeting began is not carried to it
    # (whatever the time of day the test runs).
    for action in case.actions:
        action.created_at = earlier.starts_at
    _db.session.commit()
    chair = pdf_text(meet.get(meet.chair, "agenda.pdf"))
    assert "Actions overdue from earlier meetings (from 10:24)" in chair
    assert case.reference in chair and "Fit a door alarm" in chair
    guest = meet.get(meet.guest, "agenda.html").get_data(as_text=True)
    assert "Actions overdue from earlier meetings" in guest
    assert case.reference not in guest and "door alarm" not in guest
    due = (TODAY - timedelta(days=1))
    assert f'<tr class="restricted"><td>Restricted</td><td></td><td></td><td>{due.day} {due:%B %Y}</td>' in guest
    exported = audit_rows(action="meeting.agenda_export", user_id=meet.chair.id)[0].detail
    assert exported.endswith(f"count=3 cases={meet.seen.id},{meet.hidden.id},{case.id}")
    assert case.id in {r.case_id for r in audit_rows(action="case.agenda_exported", user_id=meet.chair.id)}


# --- minutes ---------------------------------------------------------------------------------------------------

def test_the_minutes_are_404_for_a_member_until_issued(meet):
    for who in (meet.guest, meet.member):
        browser = meet.browser(who)
        for name in ("minutes.pdf", "minutes.html"):
            response = browser.get(meet.path(name))
            assert response.status_code == 404, (name, response.status_code)
            assert "attachment" not in response.headers.get("Content-Disposition", "")
    assert audit_rows(action="meeting.minutes_export") == []
    assert audit_rows(action="case.minutes_exported") == []
    issue_minutes(meet)
    assert "Restricted" in pdf_text(meet.get(meet.guest, "minutes.pdf"))
    assert meet.get(meet.member, "minutes.html").status_code == 200


def test_the_coordinator_downloads_the_draft_minutes_marked_draft(meet, db):
    hear(meet, meet.seen, owner="Rhiannon Ŵyn")
    item = db.session.query(AgendaItem).filter_by(case_id=meet.seen.id).one()
    item.decision = "Refer to the IDVA service; review in 4 weeks."
    db.session.commit()
    text = pdf_text(meet.get(meet.chair, "minutes.pdf"))
    assert "DRAFT" in text and "Minutes of" in text
    assert "Refer to the IDVA service" in text and "Flag the GP record" in text and "Rhiannon Ŵyn" in text
    html = meet.get(meet.chair, "minutes.html").get_data(as_text=True)
    assert "DRAFT minutes: not issued" in html and "Refer to the IDVA service" in html
    issue_minutes(meet)
    assert "DRAFT" not in pdf_text(meet.get(meet.chair, "minutes.pdf"))
    assert "DRAFT" not in meet.get(meet.chair, "minutes.html").get_data(as_text=True)


def test_the_issued_minutes_show_a_guest_only_what_their_agency_may_read(meet, db):
    hear(meet, meet.seen)
    hear(meet, meet.hidden, text="Housing to visit the address weekly", owner_agency="HOUSING")
    for case, decision in ((meet.seen, "Safety plan agreed"), (meet.hidden, "Injunction to be sought")):
        db.session.query(AgendaItem).filter_by(case_id=case.id).one().decision = decision
    db.session.commit()
    issue_minutes(meet)
    for name in ("minutes.pdf", "minutes.html"):
        response = meet.get(meet.guest, name)
        text = pdf_text(response) if name.endswith("pdf") else response.get_data(as_text=True)
        assert meet.seen.reference in text and "Safety plan agreed" in text, name
        assert meet.hidden.reference not in text and "Injunction" not in text and "weekly" not in text, name
        assert "Restricted" in text, name


# --- any text renders --------------------------------------------------------------------------------------------

WILD = ["Siân Ŵyn ap Llŷr", "Zoë 👩‍👩‍👧 🏳️‍🌈", "\u200fשלום\u200e مرحبا", "\u202eevil\u202c", "漢字かな",
        "x" * 5000, ("word " * 1000).strip(), "tab\there\r\nCRLF\rCR\x00nul\x07bell", "\ud800 lone surrogate",
        "{nb} pages alias", "\ufeffBOM \u00adsoft hyphen \u2028line separator", "Ελληνικά Русский"]


@pytest.mark.parametrize("value", WILD)
def test_printable_never_keeps_what_the_font_cannot_draw(value):
    text = printable(value)
    assert all(ch == "\n" or unicodedata.category(ch)[0] != "C" for ch in text)
    assert all(ch in "\n ?" or ord(ch) in supported() for ch in text)


def test_printable_keeps_welsh_and_replaces_what_is_missing():
    assert printable("Siân Ŵyn ap Llŷr") == "Siân Ŵyn ap Llŷr"
    assert printable("W\u0302yn") == "Ŵyn"  # composed first, so a decomposed name still draws
    assert printable("a😀b") == f"a{REPLACEMENT}b"
    assert printable("a\u200fb\u202ec") == "abc"
    assert printable(None) == ""


def test_a_paper_full_of_wild_text_still_renders(app, caplog):
    rows = [(str(n), value, value, "", value) for n, value in enumerate(WILD)]
    document = Document("minutes", WILD[1], WILD[0], True, [(v[:50], v) for v in WILD],
                        [Section(v[:200], paragraphs=[v], table=Table(("A", "B", "C", "D", "E"), rows,
                                                                          (10, 30, 30, 10, 20), caption=v[:80]))
                         for v in WILD], WILD[2], "2026-01-01")
    reader = PdfReader(io.BytesIO(render(document)))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Siân Ŵyn ap Llŷr" in text and "{nb} pages alias" in text
    # fpdf2 logs the characters a font lacks, which could be pieces of a name (security bar LG-2): none reach it.
    assert [r for r in caplog.records if r.name.startswith(("fpdf", "fontTools"))] == []


def test_a_meeting_with_wild_text_downloads_as_pdf_and_html(meet, db):
    hear(meet, meet.seen, text="\u202e" + "Ŵ" * 1999, owner="👩‍👩‍👧 \u200fשלום")
    meeting = db.session.get(Meeting, meet.meeting.id)
    meeting.venue = "Neuadd y Dref, Aberystwyth 🏛️ \u202e" + "y" * 150
    meeting.minutes = "x" * 20000
    item = db.session.query(AgendaItem).filter_by(case_id=meet.seen.id).one()
    item.decision = ("Penderfyniad " * 400)[:5000]
    db.session.commit()
    for name in PAPERS:
        response = meet.get(meet.chair, name)
        assert response.status_code == 200, name
    assert "Penderfyniad" in pdf_text(meet.get(meet.chair, "minutes.pdf"))


# --- the calendar event ------------------------------------------------------------------------------------------

def _event(response):
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.get_data())
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    return calendar, events[0]


@pytest.mark.parametrize(("month", "utc_hour"), [(7, 9), (1, 10)])
def test_the_calendar_event_is_in_utc_across_british_summer_time(app, db, meet, month, utc_hour):
    day = date(TODAY.year + 1, month, 14)
    meeting = meeting_on(meet.chair, day, at=time(10, 0), venue="Civic Centre, Room 2")
    calendar, event = _event(meet.browser(meet.chair).get(f"/meetings/{meeting.id}/meeting.ics"))
    assert calendar["VERSION"] == "2.0" and calendar["PRODID"]
    assert event.decoded("DTSTART") == datetime(day.year, month, 14, utc_hour, tzinfo=event.decoded("DTSTART").tzinfo)
    assert event.decoded("DTSTART").utcoffset() == timedelta(0)
    assert event.decoded("DTEND") - event.decoded("DTSTART") == timedelta(minutes=180)
    body = meet.browser(meet.chair).get(f"/meetings/{meeting.id}/meeting.ics").get_data(as_text=True)
    assert f"DTSTART:{day:%Y%m%d}T{utc_hour:02d}0000Z" in body


def test_the_calendar_event_carries_the_meeting_and_no_case_data(app, meet):
    response = meet.get(meet.guest, "meeting.ics")
    _, event = _event(response)
    meeting = _db.session.get(Meeting, meet.meeting.id)
    assert str(event["UID"]) == meeting.uid
    assert str(event["SUMMARY"]) == "MARAC meeting" and str(event["LOCATION"]) == "Civic Centre, Room 2"
    assert int(event["SEQUENCE"]) == meeting.version
    description = str(event["DESCRIPTION"])
    link = f"{app.config['PUBLIC_URL'].rstrip('/')}/meetings/{meeting.id}"
    assert link in description and "Agenda cut-off" in description and str(event["URL"]) == link
    body = response.get_data(as_text=True)
    assert meet.seen.reference not in body and meet.hidden.reference not in body and "MARAC-" not in body
    assert not any(name in body for name in NAMES)


def test_a_venue_cannot_add_lines_to_the_calendar_event(app, db, meet):
    meeting = db.session.get(Meeting, meet.meeting.id)
    meeting.venue = "Room 1\r\nATTENDEE:mailto:evil@example.com\r\nEND:VEVENT"
    db.session.commit()
    _, event = _event(meet.get(meet.chair, "meeting.ics"))
    assert "ATTENDEE" not in event and str(event["LOCATION"]).startswith("Room 1")


def test_the_calendar_download_is_audited_and_needs_no_step_up(meet):
    browser = meet.browser(meet.guest)
    age_session(browser, authenticated_at=timedelta(seconds=meet.app.config["REAUTHENTICATE_SECONDS"] + 1))
    assert browser.get(meet.path("meeting.ics")).status_code == 200
    rows = audit_rows(action="meeting.calendar")
    assert [(r.user_id, r.case_id, r.detail) for r in rows] == [(meet.guest.id, None, f"meeting={meet.meeting.id}")]


# --- who may download ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["outsider", "practitioner", "analyst", "admin"])
def test_someone_without_the_meeting_gets_404_for_every_download(meet, make_user, who):
    issue_minutes(meet)
    user = {"outsider": meet.outsider, "practitioner": make_user("practitioner", "HEALTH"),
            "analyst": make_user("analyst", "POLICE"), "admin": make_user("admin", "COUNCIL")}[who]
    browser = meet.browser(user)
    for name in PAPERS + ("meeting.ics",):
        response = browser.get(meet.path(name))
        assert response.status_code == 404, (who, name, response.status_code)
        assert "attachment" not in response.headers.get("Content-Disposition", "")
        assert meet.seen.reference not in response.get_data(as_text=True)
    assert audit_rows(action="case.agenda_exported") == [] and audit_rows(action="meeting.calendar") == []


def test_an_unknown_meeting_is_404(meet):
    browser = meet.browser(meet.chair)
    for name in PAPERS + ("meeting.ics",):
        assert browser.get(f"/meetings/987654/{name}").status_code == 404


def test_a_removed_seat_loses_the_downloads_at_once(meet, db):
    browser = meet.browser(meet.guest)
    assert browser.get(meet.path("agenda.pdf")).status_code == 200
    unseat(meet.meeting, meet.guest)
    assert browser.get(meet.path("agenda.pdf")).status_code == 404
    assert browser.get(meet.path("meeting.ics")).status_code == 404


@pytest.mark.parametrize("name", PAPERS)
def test_a_paper_needs_both_factors_proved_recently(meet, name):
    """Security bar SE-4: a stale session is sent to prove both factors again, and gets no file until it has."""
    browser = meet.browser(meet.chair)
    age_session(browser, authenticated_at=timedelta(seconds=meet.app.config["REAUTHENTICATE_SECONDS"] + 1))
    refused = browser.get(meet.path(name))
    assert refused.status_code == 302
    assert refused.headers["Location"].endswith(f"/reauthenticate?next=/meetings/{meet.meeting.id}/{name}")
    assert audit_rows(action="case.agenda_exported") == [] and audit_rows(action="case.minutes_exported") == []
    back = post_form(browser, refused.headers["Location"], {"password": PASSWORD, "code": next_code(meet.chair)})
    assert back.status_code == 302 and back.headers["Location"].endswith(meet.path(name))
    assert browser.get(meet.path(name)).headers["Content-Disposition"].startswith("attachment")


# --- audit -------------------------------------------------------------------------------------------------------

def test_an_agenda_download_is_audited_per_case_it_holds_and_once_as_a_download(meet):
    meet.get(meet.guest, "agenda.pdf")
    per_case = audit_rows(action="case.agenda_exported")
    assert [(r.user_id, r.case_id) for r in per_case] == [(meet.guest.id, meet.seen.id)]
    [download] = audit_rows(action="meeting.agenda_export")
    assert download.detail == f"meeting={meet.meeting.id} format=pdf restricted=1 count=1 cases={meet.seen.id}"
    assert download.request_id == per_case[0].request_id
    assert audit_rows(action="case.agenda_listed") == []  # the page's read is not what happened
    meet.get(meet.chair, "agenda.html")
    assert {r.case_id for r in audit_rows(action="case.agenda_exported", user_id=meet.chair.id)} == {
        meet.seen.id, meet.hidden.id}
    assert audit_rows(action="meeting.agenda_export")[-1].detail.startswith(
        f"meeting={meet.meeting.id} format=html restricted=0 count=2 cases=")


def test_a_minutes_download_is_audited_per_case(meet):
    issue_minutes(meet)
    meet.get(meet.member, "minutes.html")
    assert {r.case_id for r in audit_rows(action="case.minutes_exported")} == {meet.seen.id, meet.hidden.id}
    [download] = audit_rows(action="meeting.minutes_export")
    assert download.user_id == meet.member.id and "format=html restricted=0 count=2" in download.detail


def test_when_the_audit_write_fails_no_paper_is_sent(meet):
    browser = meet.browser(meet.chair)
    with audit_sink_down():
        for name in PAPERS + ("meeting.ics",):
            response = browser.get(meet.path(name))
            refused_for_the_sink(response)
            assert "attachment" not in response.headers.get("Content-Disposition", "")
            assert meet.seen.reference not in response.get_data(as_text=True)
    assert audit_rows(action="meeting.agenda_export") == []


# --- links -------------------------------------------------------------------------------------------------------

def test_the_agenda_and_minutes_pages_link_to_the_downloads(meet):
    browser = meet.browser(meet.chair)
    agenda = browser.get(f"/meetings/{meet.meeting.id}").get_data(as_text=True)
    for name, label in (("agenda.pdf", "Download the agenda (PDF)"), ("agenda.html", "Download the agenda (HTML)"),
                        ("meeting.ics", "Add to your calendar (.ics)")):
        assert f'href="{meet.path(name)}">{label}</a>' in agenda
    minutes = browser.get(meet.path("minutes")).get_data(as_text=True)
    assert f'href="{meet.path("minutes.pdf")}">Download the draft minutes (PDF)</a>' in minutes
    assert f'href="{meet.path("minutes.html")}">Download the draft minutes (HTML)</a>' in minutes
    unissued = meet.browser(meet.guest).get(meet.path("minutes")).get_data(as_text=True)
    assert "minutes.pdf" not in unissued  # nothing to download before the minutes are issued
    issue_minutes(meet)
    issued = meet.browser(meet.guest).get(meet.path("minutes")).get_data(as_text=True)
    assert f'href="{meet.path("minutes.pdf")}">Download the minutes (PDF)</a>' in issued
    assert re.search(r'class="app-no-print">\s*<ul class="govuk-list">\s*<li><a class="govuk-link" href="[^"]+'
                     r'minutes.pdf"', issued)

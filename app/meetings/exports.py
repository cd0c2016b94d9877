"""Downloads of a meeting's papers (the agenda and the minutes, as PDF or standalone HTML) and its calendar event.

The papers hold case data, so they are step-up protected like every export, never cached, and audited: one row per
case included and one for the download, committed together before the file is sent (no audit, no file). Each holds
exactly what the reader may see on the pages, from meeting_papers.papers(). File names carry only the date.
"""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, current_app, render_template

from app.auth.reauth import reauthentication_required
from app.core import audit
from app.core.access import actor, coordinates, policy
from app.core.extensions import db
from app.meetings.calendar import calendar_event
from app.meetings.papers import Papers, papers
from app.meetings.papers_document import Document, agenda_document, minutes_document
from app.meetings.pdf import render
from app.meetings.views import visible_meeting

bp = Blueprint("meeting_exports", __name__)
#: A download's name: a fixed word and the meeting's date, never anything typed by a person.
FILENAME = re.compile(r"(agenda|minutes|meeting)-\d{4}-\d{2}-\d{2}\.(pdf|html|ics)")
CONTENT_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "ics": "text/calendar; charset=utf-8"}


@bp.get("/meetings/<id:meeting_id>/agenda.pdf")
@policy("case_work")
@reauthentication_required
def agenda_pdf(meeting_id: int):
    """Download the agenda as the person may read it, as a PDF."""
    return _agenda(meeting_id, "pdf")


@bp.get("/meetings/<id:meeting_id>/agenda.html")
@policy("case_work")
@reauthentication_required
def agenda_html(meeting_id: int):
    """Download the agenda as the person may read it, as one standalone web page."""
    return _agenda(meeting_id, "html")


@bp.get("/meetings/<id:meeting_id>/minutes.pdf")
@policy("case_work")
@reauthentication_required
def minutes_pdf(meeting_id: int):
    """Download the minutes as the person may read them (the coordinator also the draft), as a PDF."""
    return _minutes(meeting_id, "pdf")


@bp.get("/meetings/<id:meeting_id>/minutes.html")
@policy("case_work")
@reauthentication_required
def minutes_html(meeting_id: int):
    """Download the minutes as the person may read them (the coordinator also the draft), as a standalone web page."""
    return _minutes(meeting_id, "html")


@bp.get("/meetings/<id:meeting_id>/meeting.ics")
@policy("case_work")
def calendar(meeting_id: int):
    """Download the meeting as a calendar event (no case data, so no step-up)."""
    meeting = visible_meeting(meeting_id)
    body = calendar_event(meeting, current_app.config["PUBLIC_URL"])
    audit.record("meeting.calendar", detail=f"meeting={meeting.id}")
    db.session.commit()
    return _attachment(body, f"meeting-{meeting.starts_at.date().isoformat()}.ics")


def _agenda(meeting_id: int, fmt: str):
    meeting = visible_meeting(meeting_id)
    read = papers(actor(), meeting, audit_as="case.agenda_exported")
    return _download(read, agenda_document(read, actor()), fmt)


def _minutes(meeting_id: int, fmt: str):
    meeting = visible_meeting(meeting_id)
    # The same rule as the minutes page: others read them only once issued; the coordinator also reads the draft.
    if meeting.minutes_issued_at is None and not coordinates(actor(), meeting.panel):
        abort(404)
    read = papers(actor(), meeting, audit_as="case.minutes_exported")
    return _download(read, minutes_document(read, actor()), fmt)


def _download(read: Papers, document: Document, fmt: str) -> Response:
    """Render the paper, audit the download with the ids of the cases in it, commit, and send it."""
    body = render(document) if fmt == "pdf" else render_template("meetings/paper_download.html", doc=document)
    audit.record_ids(f"meeting.{document.kind}_export", _case_ids(read),
                     detail=f"meeting={read.meeting.id} format={fmt} restricted={read.restricted_count}", key="cases")
    db.session.commit()
    return _attachment(body, f"{document.filename_stem}.{fmt}")


def _case_ids(read: Papers) -> list[int]:
    """The cases in the paper, each once, in running order then the carried actions' cases."""
    ids = [row.case.id for row in read.rows if row.case is not None]
    ids += [row.action.case_id for row in read.carried if row.action is not None]
    return list(dict.fromkeys(ids))


def _attachment(body: bytes | str, filename: str) -> Response:
    if not FILENAME.fullmatch(filename):
        raise ValueError(f"not a download name: {filename!r}")
    response = Response(body, content_type=CONTENT_TYPES[filename.rsplit(".", 1)[1]])
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response

"""A meeting's papers as a plain document (headings, paragraphs, tables of text) for the downloads to render.

Built only from meeting_papers.Papers, so a download holds exactly what its reader may see on the pages: a case they
may not open is a "Restricted" row with its number (and, on the agenda, its time) and nothing else. Case references
only, never a subject's name. The PDF and the HTML download both render the same Document, so they cannot differ.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.actions.models import Action
from app.core.timeutil import local_now, long_date
from app.meetings.papers import Papers

RESTRICTED = "Restricted"
ATTENDANCE_LABELS = {"present": "Present", "apologies": "Sent apologies", "absent": "Absent"}


@dataclass(frozen=True)
class Table:
    """Rows of text cells under a header; ``widths`` are each column's share of the page (for the PDF)."""

    header: tuple[str, ...]
    rows: list[tuple[str, ...]]
    widths: tuple[int, ...]
    caption: str = ""
    restricted: frozenset[int] = frozenset()  # indexes of the rows the reader may not open


@dataclass(frozen=True)
class Section:
    heading: str
    level: int = 2
    paragraphs: list[str] = field(default_factory=list)
    table: Table | None = None


@dataclass(frozen=True)
class Document:
    """One paper: which kind, its headings, the meeting's details, its sections, and a footer line."""

    kind: str  # "agenda" or "minutes": fixed words, used in the file name
    caption: str
    title: str
    is_draft: bool
    details: list[tuple[str, str]]
    sections: list[Section]
    footer: str
    day: str  # the meeting's date, ISO: the only variable part of the file name

    @property
    def filename_stem(self) -> str:
        return f"{self.kind}-{self.day}"


def duration(minutes: int) -> str:
    """Say a length of time the way the pages do: 1 hour 30 minutes."""
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} {'hour' if hours == 1 else 'hours'}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} {'minute' if rest == 1 else 'minutes'}")
    return " ".join(parts)


def _label(value: str) -> str:
    return value.replace("_", " ").capitalize()


def _footer(user) -> str:
    """Say who downloaded the paper and when (UK time), so a copy found later can be traced."""
    agency = getattr(getattr(user, "agency", None), "name", "") or "no agency"
    return f"Downloaded {long_date(local_now(), time=True)} by {user.display_name or 'an unnamed user'}, {agency}."


def _heading(prefix: str, papers: Papers) -> str:
    starts_at = papers.meeting.starts_at
    return f"{prefix} {starts_at:%A} {long_date(starts_at, time=True)}"


def _agenda_status(meeting) -> str:
    if meeting.agenda_issued_at is None:
        return "Draft: not yet issued"
    text = f"Issued {long_date(local_now(meeting.agenda_issued_at), time=True)}"
    if meeting.agenda_changed_at and meeting.agenda_changed_at > meeting.agenda_issued_at:
        text += " (changed since)"
    return text


def _details(meeting) -> list[tuple[str, str]]:
    return [("Venue or link", meeting.venue or "Not set"), ("Length", duration(meeting.duration_minutes)),
            ("Agenda cut-off", long_date(meeting.cutoff_at, time=True)),
            ("Member agencies", ", ".join(a.name for a in meeting.agencies) or "Every agency")]


def _action_line(action: Action) -> str:
    return f"{action.owner_agency.code}: due {action.due_on:%d %b} {_label(action.status)}"


def _tags(row) -> str:
    tags = [name for name, on in (("Repeat", row.case.is_repeat), ("Urgent", row.item.is_urgent),
                                  ("Discussed", row.item.discussed_at)) if on]
    return f"{row.case.reference} ({', '.join(tags)})" if tags else row.case.reference


def _carried_section(papers: Papers) -> Section:
    rows, restricted = [], set()
    for n, carried in enumerate(papers.carried):
        action = carried.action
        if action is None:
            restricted.add(n)
            rows.append((RESTRICTED, "", "", long_date(carried.due_on), ""))
        else:
            rows.append((action.case.reference, action.owner_agency.name, action.text or "",
                         long_date(carried.due_on), _label(action.status)))
    starts = papers.timing.carried_starts_at.strftime("%H:%M")
    shown = (f": the {len(papers.carried)} longest overdue of {papers.carried_total}"
             if papers.carried_total > len(papers.carried) else "")
    return Section(f"Actions overdue from earlier meetings (from {starts}){shown}", table=Table(
        ("Case", "Owning agency", "Action", "Due", "Status"), rows, (17, 18, 36, 17, 12),
        restricted=frozenset(restricted)))


def agenda_document(papers: Papers, user) -> Document:
    """Lay out the agenda as the agenda page shows it, without the controls."""
    meeting, count, carried = papers.meeting, len(papers.rows), papers.carried_total
    summary = f"{count} {'case' if count == 1 else 'cases'} at about {papers.minutes_per_case} minutes each"
    if carried:
        summary += f", and {carried} overdue {'action' if carried == 1 else 'actions'} carried forward"
    summary += (f": about {duration(papers.timing.needed_minutes)} in all. The meeting is "
                f"{duration(meeting.duration_minutes)} long.")
    paragraphs = [summary]
    if papers.over_by:
        paragraphs.append(f"Warning: the agenda needs about {duration(papers.over_by)} more than the meeting "
                          "allows.")
    sections = [Section("Timing", paragraphs=paragraphs)]
    if papers.rows:
        rows, restricted = [], set()
        for n, row in enumerate(papers.rows):
            time = row.starts_at.strftime("%H:%M")
            if row.is_restricted:
                restricted.add(n)
                rows.append((str(row.number), time, RESTRICTED, "", "", ""))
            else:
                actions = "\n".join(_action_line(a) for a in row.actions) or "None"
                rows.append((str(row.number), time, _tags(row), _label(row.case.state), str(row.case.priority),
                             actions))
        sections.append(Section("Running order", table=Table(
            ("No.", "Time", "Case", "Status", "Priority", "Actions"), rows, (7, 9, 30, 14, 10, 30),
            restricted=frozenset(restricted))))
    else:
        sections.append(Section("Running order", paragraphs=["No cases are listed on this meeting yet."]))
    if papers.carried:
        sections.append(_carried_section(papers))
    if papers.restricted_count:
        sections.append(Section("Restricted cases", paragraphs=[
            "A restricted row is a case your agency does not need to know about: only its place and time are shown."]))
    sections.append(Section("Confidentiality", paragraphs=[papers.confidentiality_statement]))
    return Document("agenda", meeting.title, _heading("Agenda for", papers), meeting.agenda_issued_at is None,
                    [*_details(meeting), ("Agenda", _agenda_status(meeting))], sections, _footer(user),
                    meeting.starts_at.date().isoformat())


def minutes_document(papers: Papers, user) -> Document:
    """Lay out the minutes as the minutes page shows them to read (a draft says so)."""
    meeting = papers.meeting
    if meeting.minutes_issued_at:
        status = f"Issued {long_date(local_now(meeting.minutes_issued_at), time=True)}."
    else:
        status = "DRAFT: not yet issued. Drafted from the decisions and actions recorded at the meeting."
    sections = [Section("Status", paragraphs=[status])]
    attendance = sorted(papers.attendance, key=lambda a: a.agency.name)
    read = ("The confidentiality statement was read and agreed." if meeting.confidentiality_recorded_at
            else "The confidentiality statement has not been recorded as read.")
    if attendance:
        sections.append(Section("Attendance", paragraphs=[read], table=Table(
            ("Agency", "Attendance", "Representative"),
            [(a.agency.name, ATTENDANCE_LABELS.get(a.status, _label(a.status)), a.representative or "")
             for a in attendance], (40, 20, 40))))
    else:
        sections.append(Section("Attendance", paragraphs=["Attendance has not been recorded.", read]))
    sections.append(Section("Notes", paragraphs=[meeting.minutes or "None."]))
    sections.append(Section("Cases", paragraphs=[] if papers.rows else ["No cases were on the agenda."]))
    for row in papers.rows:
        if row.is_restricted:
            sections.append(Section(f"{row.number}. {RESTRICTED}", level=3))
            continue
        agreed = [a for a in row.actions if a.meeting_id == meeting.id]
        table = Table(("Agency", "Owner", "Action", "Due", "Status"),
                      [(a.owner_agency.name, a.owner or "", a.text or "", long_date(a.due_on), _label(a.status))
                       for a in agreed], (18, 16, 37, 17, 12), caption="Actions agreed") if agreed else None
        sections.append(Section(f"{row.number}. {row.case.reference}", level=3,
                                paragraphs=[row.item.decision or "No decision recorded."], table=table))
    if papers.carried:
        sections.append(_carried_section(papers))
    sections.append(Section("Confidentiality", paragraphs=[papers.confidentiality_statement]))
    return Document("minutes", meeting.title, _heading("Minutes of", papers), meeting.minutes_issued_at is None,
                    _details(meeting), sections, _footer(user),
                    meeting.starts_at.date().isoformat())

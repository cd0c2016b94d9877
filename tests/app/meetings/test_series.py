"""Meeting series: dates per cadence, meetings made ahead (once, never in the past), edits, the pages and the job."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from app.admin import demo
from app.core.extensions import db as _db
from app.core.models import Agency
from app.core.timeutil import today, utcnow, working_days_before
from app.meetings.models import AgendaItem, Meeting, MeetingMember, MeetingSeries
from app.meetings.series import (
    MEETINGS_JOB,
    SeriesFields,
    create,
    describe,
    edit,
    generate,
    generate_all,
    meeting_dates,
    next_working_day,
)
from tests.app.support import audit_rows, forms_on, gov_date, sign_in, submit
from workflows.scheduler import Job, job, run_once

#: A Monday morning in March 2025 (UTC; the UK is on GMT, so local time too).
NOW = datetime(2025, 3, 3, 9, 0)


def series_of(cadence: str, first_on: date, start_time: time = time(10, 0)) -> MeetingSeries:
    return MeetingSeries(panel="marac", title="MARAC", cadence=cadence, first_on=first_on, start_time=start_time)


D = date
CADENCES = [
    # id, cadence, first meeting, window start, window end, the dates
    ("daily skips weekends and Easter", "daily", D(2025, 4, 14), D(2025, 4, 14), D(2025, 4, 23),
     [D(2025, 4, 14), D(2025, 4, 15), D(2025, 4, 16), D(2025, 4, 17), D(2025, 4, 22), D(2025, 4, 23)]),
    ("daily over Christmas and New Year", "daily", D(2026, 12, 1), D(2026, 12, 24), D(2027, 1, 5),
     [D(2026, 12, 24), D(2026, 12, 29), D(2026, 12, 30), D(2026, 12, 31), D(2027, 1, 4), D(2027, 1, 5)]),
    ("daily never before the first date", "daily", D(2025, 3, 6), D(2025, 3, 3), D(2025, 3, 10),
     [D(2025, 3, 6), D(2025, 3, 7), D(2025, 3, 10)]),
    ("weekly: Easter Monday moves to Tuesday", "weekly", D(2025, 4, 7), D(2025, 4, 1), D(2025, 4, 30),
     [D(2025, 4, 7), D(2025, 4, 14), D(2025, 4, 22), D(2025, 4, 28)]),
    ("weekly: a date moved into the window counts", "weekly", D(2025, 12, 18), D(2025, 12, 29), D(2026, 1, 9),
     [D(2025, 12, 29), D(2026, 1, 2), D(2026, 1, 8)]),
    ("fortnightly: Christmas Thursday moves past Boxing Day", "fortnightly", D(2025, 12, 11), D(2025, 12, 1),
     D(2026, 1, 10), [D(2025, 12, 11), D(2025, 12, 29), D(2026, 1, 8)]),
    ("fortnightly keeps its rhythm mid-series", "fortnightly", D(2025, 1, 7), D(2025, 3, 1), D(2025, 3, 31),
     [D(2025, 3, 4), D(2025, 3, 18)]),
    ("fortnightly: Boxing Day observed on Monday", "fortnightly", D(2026, 12, 14), D(2026, 12, 14), D(2027, 1, 11),
     [D(2026, 12, 14), D(2026, 12, 29), D(2027, 1, 11)]),
    ("monthly: the second Tuesday", "monthly", D(2025, 1, 14), D(2025, 1, 1), D(2025, 6, 30),
     [D(2025, 1, 14), D(2025, 2, 11), D(2025, 3, 11), D(2025, 4, 8), D(2025, 5, 13), D(2025, 6, 10)]),
    ("monthly: a fifth Friday means the last Friday", "monthly", D(2025, 1, 31), D(2025, 1, 1), D(2025, 6, 30),
     [D(2025, 1, 31), D(2025, 2, 28), D(2025, 3, 28), D(2025, 4, 25), D(2025, 5, 30), D(2025, 6, 27)]),
    ("monthly: the last Monday moves off the spring and summer bank holidays", "monthly", D(2025, 3, 31),
     D(2025, 4, 1), D(2025, 8, 31), [D(2025, 4, 28), D(2025, 5, 27), D(2025, 6, 30), D(2025, 7, 28), D(2025, 8, 26)]),
    ("monthly: the first Monday moves off the May bank holiday", "monthly", D(2025, 4, 7), D(2025, 4, 1),
     D(2025, 7, 31), [D(2025, 4, 7), D(2025, 5, 6), D(2025, 6, 2), D(2025, 7, 7)]),
    ("as needed has no dates", "as_needed", D(2025, 1, 7), D(2025, 1, 1), D(2025, 12, 31), []),
    ("an empty window", "weekly", D(2025, 1, 7), D(2025, 2, 1), D(2025, 1, 1), []),
]


@pytest.mark.parametrize(("cadence", "first_on", "start", "until", "expected"), [c[1:] for c in CADENCES],
                         ids=[c[0] for c in CADENCES])
def test_meeting_dates(cadence, first_on, start, until, expected):
    assert meeting_dates(series_of(cadence, first_on), start, until) == expected


@pytest.mark.parametrize(("cadence", "first_on", "words"), [
    ("daily", D(2025, 1, 6), "Every working day at 09:30"),
    ("weekly", D(2025, 1, 7), "Every Tuesday at 09:30"),
    ("fortnightly", D(2025, 1, 7), "Every other Tuesday at 09:30"),
    ("monthly", D(2025, 1, 14), "The second Tuesday of every month at 09:30"),
    ("monthly", D(2025, 1, 31), "The last Friday of every month at 09:30"),
    ("as_needed", D(2025, 1, 7), "As needed"),
])
def test_cadence_in_words(cadence, first_on, words):
    assert describe(series_of(cadence, first_on, time(9, 30))) == words


# --- making meetings ------------------------------------------------------------------------------------------

@pytest.fixture
def member_agencies(make_agency):
    for code, kind in (("POLICE", "police"), ("HEALTH", "health"), ("HOUSING", "housing")):
        make_agency(code, kind)


@pytest.fixture
def chair(make_user, member_agencies):
    return make_user("coordinator", "COUNCIL", panels=("marac",))


def agencies(*codes: str) -> list[Agency]:
    return list(_db.session.scalars(select(Agency).where(Agency.code.in_(codes)).order_by(Agency.name)))


def fields(cadence: str = "fortnightly", first_on: date = D(2025, 3, 4), **changes) -> SeriesFields:
    values = {"title": "MARAC", "cadence": cadence, "first_on": first_on, "start_time": time(10, 0),
              "duration_minutes": 180, "cutoff_working_days": 5, "venue": "Civic Centre, Room 2",
              "agencies": agencies("HEALTH", "POLICE"), "is_active": True}
    values.update(changes)
    return SeriesFields(**values)


def meetings_of(series_id: int) -> list[Meeting]:
    _db.session.expire_all()
    return list(_db.session.scalars(select(Meeting).where(Meeting.series_id == series_id).order_by(Meeting.starts_at)))


def meeting_count() -> int:
    return _db.session.scalar(select(func.count(Meeting.id)))


def test_meetings_are_made_once_with_their_agencies_and_seats(app, db, chair, make_user):
    health = make_user("panel_member", "HEALTH", panels=("marac",))
    make_user("panel_member", "HOUSING", panels=("marac",))  # not a member agency: no seat
    series, made = create("marac", fields(), chair, now=NOW)
    db.session.commit()
    days = [m.starts_at.date() for m in made]
    assert days == meeting_dates(series, NOW.date(), NOW.date() + timedelta(days=90))
    assert days[:3] == [D(2025, 3, 4), D(2025, 3, 18), D(2025, 4, 1)] and days[-1] <= D(2025, 6, 1)
    meeting = meetings_of(series.id)[0]
    assert (meeting.panel, meeting.starts_at, meeting.duration_minutes, meeting.venue) == (
        "marac", datetime(2025, 3, 4, 10), 180, "Civic Centre, Room 2")
    assert [a.code for a in meeting.agencies] == ["HEALTH", "POLICE"]
    assert [m.user_id for m in meeting.members] == [health.id]
    assert meeting.title == "MARAC"

    assert generate(series, D(2025, 6, 30), chair, now=NOW) != []  # further ahead: only the new dates
    count = meeting_count()
    assert generate(series, D(2025, 6, 30), chair, now=NOW) == []
    assert generate_all(NOW) == "0 meetings made for 1 series"
    db.session.commit()
    assert meeting_count() == count
    assert len({m.starts_at for m in meetings_of(series.id)}) == count


def test_no_meeting_is_made_in_the_past_or_after_it_started(app, db, chair):
    # The series began last week; at 09:00 on Monday the 08:30 meeting has started and the 09:30 one has not.
    started, _ = create("marac", fields("daily", D(2025, 2, 24), start_time=time(8, 30)), chair, now=NOW)
    later, _ = create("marac", fields("daily", D(2025, 2, 24), start_time=time(9, 30), title="Triage"), chair,
                      now=NOW)
    db.session.commit()
    assert meetings_of(started.id)[0].starts_at == datetime(2025, 3, 4, 8, 30)
    assert meetings_of(later.id)[0].starts_at == datetime(2025, 3, 3, 9, 30)
    assert all(m.starts_at > NOW for m in meetings_of(started.id) + meetings_of(later.id))


@pytest.mark.parametrize(("days", "cutoffs"), [
    # Weekly on Tuesdays from 8 April 2025: Easter (Good Friday 18, Easter Monday 21 April) is not counted.
    (3, [datetime(2025, 4, 3, 17), datetime(2025, 4, 10, 17), datetime(2025, 4, 15, 17), datetime(2025, 4, 24, 17)]),
    (5, [datetime(2025, 4, 1, 17), datetime(2025, 4, 8, 17), datetime(2025, 4, 11, 17), datetime(2025, 4, 22, 17)]),
    # None: the agenda closes as the meeting starts.
    (0, [datetime(2025, 4, 8, 10), datetime(2025, 4, 15, 10), datetime(2025, 4, 22, 10), datetime(2025, 4, 29, 10)]),
])
def test_the_agenda_cut_off_is_the_set_working_days_before_at_five(app, db, chair, days, cutoffs):
    series, _ = create("marac", fields("weekly", D(2025, 4, 8), cutoff_working_days=days), chair, now=NOW)
    meetings = [m for m in meetings_of(series.id) if m.starts_at < datetime(2025, 5, 1)]
    assert [m.cutoff_at for m in meetings] == cutoffs
    assert all(m.cutoff_at.date() == working_days_before(m.starts_at.date(), days) for m in meetings)


def test_an_as_needed_or_stopped_series_makes_no_meetings(app, db, chair):
    create("marac", fields("as_needed"), chair, now=NOW)
    create("marac", fields("weekly", is_active=False), chair, now=NOW)
    db.session.commit()
    assert meeting_count() == 0
    assert generate_all(NOW) == "0 meetings made for 0 series"


def test_changing_the_dates_removes_empty_meetings_off_them_and_keeps_those_with_cases(
        app, db, chair, make_referral):
    series, made = create("marac", fields("weekly", D(2025, 3, 4)), chair, now=NOW)
    db.session.commit()
    off_weeks = [m for m in made if m.starts_at.date() in (D(2025, 3, 11), D(2025, 3, 25))]
    case = make_referral(chair)
    db.session.add(AgendaItem(meeting_id=off_weeks[1].id, case_id=case.id))
    db.session.commit()
    outcome = edit(series, fields("fortnightly", D(2025, 3, 4)), chair, now=NOW)
    db.session.commit()
    days = [m.starts_at.date() for m in meetings_of(series.id)]
    assert D(2025, 3, 11) not in days and D(2025, 3, 25) in days and D(2025, 3, 18) in days
    assert outcome.removed == len(made) - len(meeting_dates(series, NOW.date(), made[-1].starts_at.date())) - 1 > 0
    assert [m.id for m in outcome.kept] == [off_weeks[1].id]
    assert set(days) - {D(2025, 3, 25)} == set(meeting_dates(series, NOW.date(), days[-1]))


# --- the scheduler job ----------------------------------------------------------------------------------------

def test_the_scheduler_job_makes_every_active_series_meetings_up_to_the_horizon(app, db, chair, monkeypatch):
    monkeypatch.setitem(app.config, "MEETINGS_DAYS_AHEAD", 30)
    assert job(MEETINGS_JOB) == Job(MEETINGS_JOB, "SCHEDULER_MEETINGS_SECONDS", generate_all, order=50)
    seconds = app.config["SCHEDULER_MEETINGS_SECONDS"]
    assert seconds == 6 * 3600
    weekly = MeetingSeries(panel="marac", title="MARAC", cadence="weekly", first_on=D(2025, 3, 4),
                           start_time=time(10), created_by_id=chair.id, agencies=agencies("POLICE"))
    stopped = MeetingSeries(panel="marac", title="Old", cadence="daily", first_on=D(2025, 3, 3),
                            start_time=time(10), created_by_id=chair.id, is_active=False)
    db.session.add_all([weekly, stopped])
    db.session.commit()

    assert run_once(MEETINGS_JOB, seconds, NOW, work=generate_all) == "5 meetings made for 1 series"
    assert [m.starts_at.date() for m in meetings_of(weekly.id)] == [
        D(2025, 3, 4), D(2025, 3, 11), D(2025, 3, 18), D(2025, 3, 25), D(2025, 4, 1)]
    assert meetings_of(stopped.id) == []
    assert run_once(MEETINGS_JOB, seconds, NOW + timedelta(minutes=5), work=generate_all).startswith("skipped")
    assert run_once(MEETINGS_JOB, seconds, NOW + timedelta(seconds=seconds), work=generate_all) == \
        "0 meetings made for 1 series"
    monkeypatch.setitem(app.config, "MEETINGS_DAYS_AHEAD", 37)
    assert run_once(MEETINGS_JOB, seconds, NOW + timedelta(days=1), work=generate_all) == \
        "1 meetings made for 1 series"
    assert [r.detail for r in audit_rows(action="series.generate")] == [
        f"series={weekly.id} panel=marac meetings=5", f"series={weekly.id} panel=marac meetings=1"]


# --- the pages ------------------------------------------------------------------------------------------------

NEW = "/meetings/series/new"
TODAY = today()


def next_weekday(weekday: int, after: date = TODAY) -> date:
    """The first such weekday (0 is Monday) a week or more after `after`, so its cut-off is still to come."""
    return after + timedelta(days=(weekday - after.weekday()) % 7 + 7)


def form(**changes) -> dict:
    """What a coordinator types into the new series page."""
    data = {"panel": "marac", "title": "MARAC", "cadence": "fortnightly", "first_on": gov_date(next_weekday(1)),
            "start_time": "10:00", "duration_minutes": "180", "cutoff_working_days": "5",
            "venue": "Civic Centre, Room 2", "agencies": ["HEALTH", "POLICE"]}
    data.update(changes)
    return data


def test_a_coordinator_creates_a_series_and_its_meetings_are_planned_at_once(app, db, chair):
    browser = sign_in(app, chair)
    assert 'href="/meetings/series"' in browser.get("/meetings").get_data(as_text=True)
    response = submit(browser, NEW, form())
    assert response.status_code == 302 and response.headers["Location"].endswith("/meetings/series")
    series = db.session.scalar(select(MeetingSeries))
    first = next_weekday(1)
    assert (series.panel, series.cadence, series.first_on, series.start_time, series.created_by_id) == (
        "marac", "fortnightly", first, time(10), chair.id)
    days = [m.starts_at.date() for m in meetings_of(series.id)]
    assert days and days == meeting_dates(series, TODAY, TODAY + timedelta(days=app.config["MEETINGS_DAYS_AHEAD"]))
    assert days[0] == next_working_day(first)
    assert [r.detail for r in audit_rows(action="series.create")] == [
        f"series={series.id} panel=marac cadence=fortnightly meetings={len(days)}"]

    page = browser.get("/meetings/series").get_data(as_text=True)
    assert f"Meeting series created. {len(days)} meetings added" in page
    assert f"Every other {first:%A} at 10:00" in page
    assert meetings_of(series.id)[0].starts_at.strftime("%A %d %B %Y, %H:%M") in page
    assert "Health agency, Police agency" in page


def fields_on(browser, path: str) -> list[tuple[str, str]]:
    """The form on the page, as the browser would send it untouched."""
    (_, pairs, _), = [f for f in forms_on(browser.get(path).get_data(as_text=True)) if f[0] in ("", path)]
    return pairs


def changed(pairs: list[tuple[str, str]], **values) -> MultiDict:
    body = MultiDict([(k, v) for k, v in pairs if k not in values])
    for name, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            body.add(name, item)
    return body


def test_editing_changes_only_meetings_to_come_whose_agenda_is_not_issued(
        app, db, chair, make_user):
    health = make_user("panel_member", "HEALTH", panels=("marac",))
    housing = make_user("panel_member", "HOUSING", panels=("marac",))
    series, made = create("marac", fields("weekly", next_weekday(2)), chair)
    past = Meeting(panel="marac", series=series, starts_at=datetime.combine(TODAY - timedelta(days=7), time(10)),
                   cutoff_at=datetime.combine(TODAY - timedelta(days=14), time(17)), venue="Civic Centre, Room 2",
                   created_by_id=chair.id, agencies=agencies("HEALTH", "POLICE"))
    db.session.add(past)
    made[0].agenda_issued_at = utcnow()
    db.session.commit()
    issued_id, to_come = made[0].id, [m.id for m in made[1:]]
    version = series.version

    browser = sign_in(app, chair)
    path = f"/meetings/series/{series.id}"
    response = submit(browser, path, {"start_time": "14:15", "duration_minutes": "90", "venue": "Room 9",
                                      "cutoff_working_days": "2", "agencies": ["HOUSING"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]

    db.session.expire_all()
    assert db.session.get(MeetingSeries, series.id).version > version
    for meeting_id in to_come:
        meeting = db.session.get(Meeting, meeting_id)
        day = meeting.starts_at.date()
        assert (meeting.starts_at, meeting.duration_minutes, meeting.venue) == (
            datetime.combine(day, time(14, 15)), 90, "Room 9")
        assert meeting.cutoff_at == datetime.combine(working_days_before(day, 2), time(17))
        assert [a.code for a in meeting.agencies] == ["HOUSING"]
        assert [m.user_id for m in meeting.members] == [housing.id]
    issued = db.session.get(Meeting, issued_id)
    assert (issued.starts_at.time(), issued.venue, [a.code for a in issued.agencies]) == (
        time(10), "Civic Centre, Room 2", ["HEALTH", "POLICE"])
    assert [m.user_id for m in issued.members] == [health.id]
    past = db.session.get(Meeting, past.id)
    assert (past.starts_at.time(), past.venue, past.duration_minutes) == (time(10), "Civic Centre, Room 2", 180)
    assert [r.detail.split(" updated=")[1] for r in audit_rows(action="series.update")] == [
        f"{len(to_come)} removed=0 kept=0 made=0"]


def test_stopping_a_series_stops_its_meetings_being_made(app, db, chair, monkeypatch):
    monkeypatch.setitem(app.config, "MEETINGS_DAYS_AHEAD", 20)
    series, made = create("marac", fields("weekly", next_weekday(3)), chair)
    db.session.commit()
    assert made
    browser = sign_in(app, chair)
    assert submit(browser, f"/meetings/series/{series.id}", {"is_active": "stopped"}).status_code == 302
    monkeypatch.setitem(app.config, "MEETINGS_DAYS_AHEAD", 90)
    assert generate_all(utcnow()) == "0 meetings made for 0 series"
    assert len(meetings_of(series.id)) == len(made)
    assert "Stopped" in browser.get("/meetings/series").get_data(as_text=True)


def test_a_stale_save_is_a_409_and_changes_nothing(app, db, chair, make_user):
    series, _ = create("marac", fields("weekly", next_weekday(1)), chair)
    db.session.commit()
    path = f"/meetings/series/{series.id}"
    first = sign_in(app, chair)
    second = sign_in(app, make_user("coordinator", "IDVA", panels=("marac",)))
    first_form, second_form = fields_on(first, path), fields_on(second, path)
    assert first.post(path, data=changed(first_form, venue="Room 1")).status_code == 302
    count = meeting_count()
    response = second.post(path, data=changed(second_form, venue="Room 2", start_time="16:00"))
    assert response.status_code == 409
    assert "Someone else changed this meeting series" in response.get_data(as_text=True)
    db.session.expire_all()
    saved = db.session.get(MeetingSeries, series.id)
    assert (saved.venue, saved.start_time) == ("Room 1", time(10))
    assert {m.venue for m in meetings_of(series.id)} == {"Room 1"} and meeting_count() == count
    assert len(audit_rows(action="series.conflict")) == 1


BAD_INPUT = [
    ("first date in the past", {"first_on": gov_date(TODAY - timedelta(days=1))},
     "The first meeting date must be today or in the future"),
    ("first date not a date", {"first_on": ["31", "2", "2030"]}, "Enter the first meeting date as day, month and year"),
    ("first date missing", {"first_on": ["", "", ""]}, "Enter the first meeting date as day, month and year"),
    ("first date on a Saturday", {"first_on": gov_date(next_weekday(5))},
     "Choose a first meeting date from Monday to Friday"),
    ("time out of range", {"start_time": "25:00"}, "Enter the start time like 09:30"),
    ("time not a time", {"start_time": "ten"}, "Enter the start time like 09:30"),
    ("time missing", {"start_time": ""}, "Enter the start time"),
    ("too short", {"duration_minutes": "14"}, "Enter a length from 15 to 600 minutes"),
    ("too long", {"duration_minutes": "601"}, "Enter a length from 15 to 600 minutes"),
    ("length not a number", {"duration_minutes": "three hours"}, "Enter a length from 15 to 600 minutes"),
    ("cut-off negative", {"cutoff_working_days": "-1"}, "Enter an agenda cut-off from 0 to 20 working days"),
    ("cut-off too far", {"cutoff_working_days": "21"}, "Enter an agenda cut-off from 0 to 20 working days"),
    ("cut-off not a number", {"cutoff_working_days": "a week"}, "Enter an agenda cut-off from 0 to 20 working days"),
    ("cut-off missing", {"cutoff_working_days": ""}, "Enter the agenda cut-off in working days"),
    ("no agency", {"agencies": []}, "Choose at least one member agency"),
    ("unknown agency", {"agencies": ["HEALTH", "NOSUCH"]}, "Choose member agencies from the list"),
    ("unknown panel", {"panel": "channel"}, "Choose a panel you coordinate"),
    ("a panel they do not coordinate", {"panel": "asb_case_review"}, "Choose a panel you coordinate"),
    ("no title", {"title": "   "}, "Enter a title"),
    ("unknown cadence", {"cadence": "yearly"}, "Choose how often the panel meets"),
    ("venue too long", {"venue": "x" * 201}, "Enter a venue or link of 200 characters or fewer"),
]


@pytest.mark.parametrize(("changes", "message"), [b[1:] for b in BAD_INPUT], ids=[b[0] for b in BAD_INPUT])
def test_bad_input_is_a_field_error_and_writes_nothing(app, db, chair, changes, message):
    browser = sign_in(app, chair)
    response = submit(browser, NEW, form(**changes))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "govuk-error-summary" in page
    assert db.session.scalar(select(func.count(MeetingSeries.id))) == 0 and meeting_count() == 0


def test_bad_input_on_an_edit_is_422_and_changes_nothing(app, db, chair):
    series, _ = create("marac", fields("weekly", next_weekday(1)), chair)
    db.session.commit()
    before, count = series.version, meeting_count()
    path = f"/meetings/series/{series.id}"
    browser = sign_in(app, chair)
    for changes, message in [({"duration_minutes": "601"}, "Enter a length from 15 to 600 minutes"),
                             ({"agencies": []}, "Choose at least one member agency"),
                             ({"is_active": "maybe"}, "Choose whether meetings are planned ahead")]:
        response = submit(browser, path, changes)
        assert response.status_code == 422 and message in response.get_data(as_text=True), changes
    db.session.expire_all()
    assert db.session.get(MeetingSeries, series.id).version == before and meeting_count() == count
    # A series that started long ago can be changed: only a new one must start today or later.
    assert submit(browser, path, {"first_on": gov_date(next_weekday(1, TODAY - timedelta(days=77)))}).status_code == 302


def test_a_coordinator_of_another_panel_gets_404(app, db, chair, make_user):
    series, _ = create("marac", fields("weekly", next_weekday(1)), chair)
    db.session.commit()
    outsider = sign_in(app, make_user("coordinator", "COUNCIL", panels=("asb_case_review",)))
    path = f"/meetings/series/{series.id}"
    assert outsider.get(path).status_code == 404
    response = outsider.post(path, data=changed(fields_on(outsider, NEW), venue="Mine now",
                                                version=str(series.version)))
    assert response.status_code == 404
    assert outsider.get("/meetings/series/987654").status_code == 404
    assert "MARAC" not in outsider.get("/meetings/series").get_data(as_text=True).split("<table", 1)[1]
    db.session.expire_all()
    assert db.session.get(MeetingSeries, series.id).venue == "Civic Centre, Room 2"
    assert [r.detail for r in audit_rows(action="series.denied")] == [f"series={series.id}"] * 2 + ["series=987654"]


def test_people_who_are_not_coordinators_cannot_reach_the_series_pages(app, make_user):
    browser = sign_in(app, make_user("panel_member", "HEALTH", panels=("marac",)))
    for path in ("/meetings/series", NEW):
        assert browser.get(path).status_code == 404
    assert 'href="/meetings/series"' not in browser.get("/meetings").get_data(as_text=True)


def test_the_demo_has_a_fortnightly_marac_series_and_an_asb_case_review_series(app, db):
    demo.load()
    marac, asb = db.session.scalars(select(MeetingSeries).order_by(MeetingSeries.id)).all()
    assert (marac.title, marac.cadence, marac.first_on.weekday(), marac.start_time, marac.duration_minutes,
            marac.cutoff_working_days) == ("MARAC", "fortnightly", 1, time(10), 180, 5)
    assert sorted(a.code for a in marac.agencies) == sorted(code for code, *_ in demo.AGENCIES)
    assert len(meetings_of(marac.id)) >= 6
    assert (asb.panel, asb.cadence, meetings_of(asb.id)) == ("asb_case_review", "as_needed", [])
    coming = db.session.scalars(select(Meeting.starts_at).where(Meeting.panel == "marac",
                                                                Meeting.starts_at > utcnow())).all()
    assert len(coming) == len(set(coming))  # the series never doubles the demo's one-off meeting
    assert db.session.scalar(select(func.count(MeetingMember.user_id)).join(Meeting).where(
        Meeting.series_id == marac.id)) == 2 * len(meetings_of(marac.id))  # health and housing members


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'


def test_hostile_text_is_stored_as_typed_shown_escaped_and_refused_in_other_fields(app, db, chair):
    browser = sign_in(app, chair)
    assert submit(browser, NEW, form(title=HOSTILE, venue=HOSTILE)).status_code == 302
    series = db.session.scalar(select(MeetingSeries))
    assert (series.title, series.venue, meetings_of(series.id)[0].venue) == (HOSTILE, HOSTILE, HOSTILE)
    for path in ("/meetings/series", f"/meetings/series/{series.id}", "/meetings"):
        html = browser.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)" in html and "<script>alert(1)" not in html and "<img src=x" not in html, path
    count = meeting_count()
    for field, value in (("cadence", HOSTILE), ("panel", HOSTILE), ("start_time", HOSTILE),
                         ("duration_minutes", HOSTILE), ("cutoff_working_days", HOSTILE), ("agencies", [HOSTILE]),
                         ("first_on", [HOSTILE, "1", "2030"]), ("title", "Cwm\x00Rhondda"),
                         ("venue", "Cwm\x00Rhondda")):
        response = submit(browser, NEW, form(**{field: value}))
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and f'id="{field}-error"' in html, field
        assert "<script>alert(1)" not in html and "<img src=x" not in html, field
    assert db.session.scalar(select(func.count(MeetingSeries.id))) == 1 and meeting_count() == count

"""Meeting journeys: a coordinator takes a referral to today's meeting and records its hearing; a panel member from an
agency that is not a member of a meeting sees its agenda with the other agency's case restricted."""
from __future__ import annotations

import re
from datetime import time, timedelta

import pytest

from app.core.timeutil import today
from tests.browser.person import Person
from tests.browser.world import fake

MODES = ("mouse", "keyboard")


def reference(case_id: int) -> str:
    return f"MARAC-{case_id:06d}"


def assert_unique_ids(person: Person) -> None:
    """No two elements share an id (the agenda page holds many small forms, each with its hidden fields)."""
    repeated = person.page.evaluate("""() => { const seen = {};
        for (const e of document.querySelectorAll('[id]')) seen[e.id] = (seen[e.id] || 0) + 1;
        return Object.keys(seen).filter(id => seen[id] > 1); }""")
    assert not repeated, f"ids used more than once on {person.page.url}: {repeated}"


@pytest.mark.parametrize("mode", MODES)
def test_a_coordinator_screens_a_referral_lists_it_and_records_its_hearing(world, new_page, mode):
    # A visibly high-risk referral arrives this morning, after yesterday's 17:00 cut-off for today's meeting, which
    # has already begun: the coordinator screens it and adds it to the meeting as urgent rather than wait a month.
    coordinator = world.person("coordinator", "COUNCIL", panels=("marac",))
    practitioner = world.person("practitioner", "POLICE")
    case_id = world.referral(practitioner, referred_on=today(), forename=fake.first_name_female(),
                             surname=fake.last_name())
    meeting_id = world.meeting(coordinator, days=0, at=time(0, 0), agencies=("POLICE", "COUNCIL", "HEALTH"))
    person = Person(new_page(), mode, "meeting-hearing", world)
    person.sign_in(coordinator)
    person.sees("Dashboard")

    person.follow("Cases", exact=True)
    person.follow(reference(case_id))
    person.sees("Received")
    person.follow("Accept referral")
    person.press("Accept referral")
    person.sees("The case is now accepted")

    person.follow("Meetings", exact=True)
    person.follow_to(f"/meetings/{meeting_id}")
    person.sees("Build the agenda")
    assert_unique_ids(person)
    later = person.page.locator("form", has=person.page.get_by_role("button", name="Add as urgent"))
    assert reference(case_id) in later.inner_text(), "the case accepted after the cut-off is not offered as urgent"
    person.tick("case_id", str(case_id))
    person.press("Add as urgent")
    person.sees("1 case added to the agenda.")
    row = person.page.locator("tbody tr", has_text=reference(case_id))
    assert "Urgent" in row.inner_text() and "Listed" in row.inner_text()
    person.press("Issue the agenda")
    person.sees("Agenda issued")
    assert_unique_ids(person)

    person.follow("Record attendance and the confidentiality statement")
    police, council, health = (world.agency_id(code) for code in ("POLICE", "COUNCIL", "HEALTH"))
    person.choose(f"status_{police}", "present")
    person.fill(f"representative_{police}", "DS Kaur")
    person.choose(f"status_{council}", "present")
    person.fill(f"representative_{council}", coordinator.display_name)
    person.choose(f"status_{health}", "apologies")
    person.press("Save attendance")
    # Forgot the confidentiality statement: the summary names it and links to the box.
    summary = person.page.locator(".govuk-error-summary")
    assert "Confirm the confidentiality statement was read and agreed" in summary.inner_text()
    assert summary.get_by_role("link").first.get_attribute("href") == "#confidentiality"
    assert person.page.title().startswith("Error:")
    person.tick("confidentiality", "yes")
    person.press("Save attendance")
    person.sees("Attendance recorded.")

    person.follow("Record discussion")
    person.sees(f"Record the discussion of {reference(case_id)}")
    person.fill("decision", "Risk remains high: the perpetrator is due for release on Friday. Safety plan agreed.")
    person.select("actions_0_owner_agency", "Northshire Police")
    person.fill("actions_0_owner", "DS Kaur")
    person.fill("actions_0_text", "Flag the address for an urgent response and tell the victim of the release date")
    person.press("Record the hearing and actions")
    # Forgot the due date: the summary says so in the page's terms and takes the person to the day box.
    summary = person.page.locator(".govuk-error-summary")
    assert person.page.title().startswith("Error:")
    assert "Enter the date action 1 is due" in summary.inner_text(), summary.inner_text()
    assert person.jump("Enter the date action 1 is due").get_attribute("id") == "actions_0_due_on-day"
    assert "perpetrator is due for release" in person.field("decision").input_value()
    due = today() + timedelta(days=14)
    person.date("actions_0_due_on", due)
    person.press("Record the hearing and actions")
    person.sees(f"Discussion of {reference(case_id)} recorded.")
    row = person.page.locator("tbody tr", has_text=reference(case_id))
    assert "Heard" in row.inner_text() and "Discussed" in row.inner_text()
    assert f"POLICE: due {due:%d %b}" in row.inner_text()

    person.follow(reference(case_id))
    person.sees("Heard")
    person.sees("Flag the address for an urgent response")

    person.follow("Meetings", exact=True)
    person.follow_to(f"/meetings/{meeting_id}")
    person.follow("Minutes")
    person.sees("Minutes of")
    person.sees("Northshire Police\tPresent\tDS Kaur")
    person.sees("The confidentiality statement was read and agreed.")
    assert "perpetrator is due for release" in person.page.locator("textarea[name^=decision_]").input_value()
    person.sees("Flag the address for an urgent response")


@pytest.mark.parametrize("mode", MODES)
def test_a_panel_member_from_another_agency_sees_the_agenda_with_the_other_case_restricted(world, new_page, mode):
    coordinator = world.person("coordinator", "COUNCIL", panels=("marac",))
    teacher = world.person("practitioner", "SCHOOL")
    officer = world.person("practitioner", "POLICE")
    member = world.person("panel_member", "SCHOOL", panels=("marac",))
    meeting_id = world.meeting(coordinator, days=7, agencies=("POLICE", "HEALTH"))
    world.seat(meeting_id, member)  # a guest: the school is not a member agency of this meeting
    ours = world.referral(teacher, forename=fake.first_name_female(), surname=fake.last_name())
    theirs = world.referral(officer, forename=fake.first_name_female(), surname=fake.last_name())
    for case_id in (ours, theirs):
        world.step(coordinator, case_id, "accept")
        world.step(coordinator, case_id, "list", data={"meeting_id": meeting_id})

    person = Person(new_page(), mode, "meeting-restricted", world)
    person.sign_in(member)
    person.follow("Meetings", exact=True)
    person.follow_to(f"/meetings/{meeting_id}")
    person.sees("Running order")
    rows = person.page.locator("table", has=person.page.get_by_text("Running order")).locator("tbody tr")
    assert rows.count() == 2
    texts = [rows.nth(n).inner_text() for n in range(2)]
    restricted = next(t for t in texts if "Restricted" in t)
    open_row = next(t for t in texts if "Restricted" not in t)
    assert reference(ours) in open_row
    number, at = (cell.strip() for cell in restricted.split("\t")[:2])
    assert number in ("1", "2") and re.fullmatch(r"1[01]:\d\d", at), f"no number and time on {restricted!r}"
    assert reference(theirs) not in person.text()

    person.follow(reference(ours))
    person.sees(f"Case {reference(ours)}")
    person.sees("Northshire Academy")

    person.visit(f"/cases/{theirs}")
    assert person.page.title().startswith("Page not found")
    person.sees("Page not found")
    assert reference(theirs) not in person.page.content()

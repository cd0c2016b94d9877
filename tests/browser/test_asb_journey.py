"""An ASB coordinator logs an application with its earlier complaints, sees the threshold worked out, and takes the
case through acknowledgement and the agencies' information to the decision that the threshold is met."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.timeutil import today
from tests.browser.person import Person

MODES = ("mouse", "keyboard")


def _complaints(applied_on: date) -> list[tuple[date, date, str, str]]:
    """Four earlier complaints: three made in time, one reported more than a month after the behaviour."""
    day = lambda n: applied_on - timedelta(days=n)  # noqa: E731
    return [(day(150), day(100), "Northshire Police", "NP-2291"),  # reported seven weeks late: does not count
            (day(60), day(58), "Northshire Council ASB team", "ASB-1042"),
            (day(40), day(39), "Northshire Homes", "NH-77"),
            (day(20), day(18), "Northshire Police", "NP-3310")]


@pytest.mark.parametrize("mode", MODES)
def test_an_asb_coordinator_logs_an_application_and_decides_the_threshold_is_met(world, new_page, mode):
    coordinator = world.person("coordinator", "COUNCIL", panels=("asb_case_review",))
    person = Person(new_page(), mode, "asb", world)
    person.sign_in(coordinator)
    person.follow("New ASB case review application")

    applied_on = today()
    person.date("referred_on", applied_on)
    person.choose("applicant_kind", "individual")
    person.choose("on_behalf", "no")
    person.fill("victim_forename", "Gwenllian")
    person.fill("victim_surname", "Ashworth")
    person.date("victim_date_of_birth", date(1971, 9, 2))
    person.fill("victim_address", "14 Larch Row\nNorthshire NS4 7QT")
    person.fill("neighbourhood", "Larchfield")
    complaints = _complaints(applied_on)
    for n, (incident, reported, agency, reference) in enumerate(complaints):
        person.date(f"complaints_{n}_incident_on", incident)
        if n != 3:  # the last complaint's report date is forgotten at first
            person.date(f"complaints_{n}_reported_on", reported)
        person.fill(f"complaints_{n}_agency", agency)
        person.fill(f"complaints_{n}_reference", reference)
    person.press("Submit application")

    # The error summary names the missing date; its link puts the cursor in that date's day box.
    assert person.page.title().startswith("Error:")
    person.correct("Enter when complaint 4 was reported")
    person.date("complaints_3_reported_on", complaints[3][1])
    person.press("Submit application")

    # Received, with the threshold worked out from the complaints: three of four count, the late one does not.
    person.sees("received")
    heading = person.page.locator("h1").inner_text()
    assert "ASB_CASE_REVIEW-" in heading and "Received" in heading
    assert "Ashworth" in person.text()
    person.sees("3 of 3 qualifying complaints needed: met on the count")
    rows = person.page.locator("table.govuk-table").filter(has_text="Earlier complaints").locator("tbody tr")
    assert rows.count() == 4
    late = rows.nth(0).inner_text()
    assert "NP-2291" in late and "No." in late and "more than a month after" in late
    assert all("Yes." in rows.nth(n).inner_text() for n in (1, 2, 3))
    assert "NH-77" in rows.nth(2).inner_text()
    person.sees("None yet: the acknowledgement is written when the application is acknowledged.")

    person.follow("Acknowledge the application")
    person.press("Acknowledge the application")
    person.sees("The case is now acknowledged")
    assert person.page.get_by_role("link", name="Acknowledgement").count() == 1  # its letter, listed

    person.follow("Ask the agencies for their information")
    person.press("Ask the agencies for their information")
    person.sees("The case is now gathering")

    person.follow("Decide the threshold is met")
    # Met on the count: no ground to choose. The reason is asked for, and goes into the letter.
    person.sees("3 complaints qualify, and the threshold needs 3: the threshold is met on the count.")
    assert person.page.locator('[name="ground"]').count() == 0
    person.sees("This goes into the decision letter to the applicant")
    person.press("Decide the threshold is met")  # without the reason
    person.correct("Give the reason for this decision")
    person.fill("reason", "Three complaints made in time about the same behaviour: the threshold is met on the count.")
    person.press("Decide the threshold is met")

    person.sees("The case is now threshold met")
    assert "Threshold met" in person.page.locator("h1").inner_text()
    decision = person.page.locator(".govuk-summary-list__row").filter(has_text="Decision")
    assert "Threshold met" in decision.inner_text()
    person.sees("List on a review meeting")  # the next step
    letters = person.page.locator("main ul.govuk-list").filter(has_text="Threshold decision")
    assert letters.count() == 1 and "Acknowledgement" in letters.inner_text()

    person.follow("Threshold decision")
    person.sees("your application meets the threshold")
    person.sees("3 of your complaints qualify, and 3 are needed.")
    person.sees("Three complaints made in time about the same behaviour")
    assert len(person.pages_checked) >= 12

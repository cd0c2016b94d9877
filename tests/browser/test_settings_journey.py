"""An administrator lowers the ASB case review threshold from a date, with the reason: a number above the legal
limit is refused on its field first; the history then shows the change, who made it and the value before."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.timeutil import today
from tests.browser.person import Person


@pytest.mark.parametrize("mode", ("mouse", "keyboard"))
def test_an_administrator_changes_a_local_rule_from_a_date_with_the_reason(world, new_page, mode):
    admin = world.person("admin", "COUNCIL")
    person = Person(new_page(), mode, "settings", world)
    person.sign_in(admin)
    person.follow("Settings", exact=True)
    person.sees("Qualifying complaints that meet the threshold")
    person.follow("Change qualifying complaints that meet the threshold")
    person.sees("The Act lets an area set a lower number, never one above three")

    person.fill("value", "4")  # above the legal limit
    person.fill("reason", "Board decision of 2 December")
    person.press("Save the change")
    summary = person.page.locator(".govuk-error-summary")
    assert "never one above three" in summary.inner_text() and person.page.title().startswith("Error:")
    person.correct(summary.get_by_role("link").first.inner_text())

    starts = today() + timedelta(days=14)
    person.fill("value", "2")
    person.date("effective_from", starts)
    person.press("Save the change")
    person.sees(f"from {starts.day} {starts:%B %Y}")
    history = person.page.locator("table").last.inner_text()
    assert "Board decision of 2 December" in history and "3 complaints" in history and "2 complaints" in history
    person.follow("Back to the settings")
    person.sees(f"From {starts.day} {starts:%B %Y}: 2 complaints")

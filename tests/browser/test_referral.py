"""A practitioner signs in and submits a MARAC referral with its DASH checklist, meets an error and fixes it."""
from __future__ import annotations

import pytest

from tests.browser.person import Person
from tests.browser.referrals import fill_in_a_marac_referral

MODES = ("mouse", "keyboard")


@pytest.mark.parametrize("mode", MODES)
def test_a_practitioner_submits_a_marac_referral_and_fixes_what_was_missing(world, new_page, mode):
    practitioner = world.person("practitioner", "POLICE")
    person = Person(new_page(), mode, "referral", world)
    person.sign_in(practitioner)
    if mode == "keyboard":  # the first Tab reaches the skip link, which takes focus past the navigation
        person.page.keyboard.press("Tab")
        skip = person.page.evaluate("() => [document.activeElement.textContent.trim(), "
                                    "document.activeElement.getAttribute('href')]")
        assert skip == ["Skip to main content", "#main-content"]
        person.page.keyboard.press("Enter")
        assert person.page.evaluate("() => document.activeElement.id") == "main-content"
        person.visit("/cases")
    person.follow("New MARAC referral")

    fill_in_a_marac_referral(person, surname="")  # the last name forgotten
    person.press("Submit referral")

    # The error summary at the top names the problem and links to the field; nothing was made.
    summary = person.page.locator(".govuk-error-summary")
    assert summary.is_visible() and "Enter the victim's last name" in summary.inner_text()
    link = summary.get_by_role("link").first
    assert link.get_attribute("href") == "#victim_surname"
    assert person.page.title().startswith("Error:")
    if mode == "keyboard":  # GOV.UK moves focus to the summary; its link takes the person to the field
        assert person.page.evaluate("() => document.activeElement.classList.contains('govuk-error-summary')")
        person.page.keyboard.press("Tab")
        person.page.keyboard.press("Enter")
        assert person.page.evaluate("() => document.activeElement.name") == "victim_surname"

    person.fill("victim_surname", "Pryce-Jones")
    person.press("Submit referral")
    person.sees("Received")
    assert "MARAC-" in person.text() and "Pryce-Jones" in person.text()
    assert len(person.pages_checked) >= 5

"""A practitioner's session runs out while they fill in a referral: the sign-in page says plainly that what they
typed was not saved, and signing in again brings them back to the form to enter it again.

The service keeps nothing typed into a form sent after the session ended (it would be case data held for whoever
uses the browser next), so this is the journey the issue's "or is told clearly that it was not kept" describes.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.core.models import Case
from app.core.timeutil import today
from tests.browser.conftest import served_world
from tests.browser.person import Person
from tests.browser.referrals import fill_in_a_marac_referral

MODES = ("mouse", "keyboard")
#: The served app's idle limit: longer than filling in the whole form by keyboard takes, short enough to wait out.
IDLE_SECONDS = 20


@pytest.fixture(scope="module")
def expiry(tmp_path_factory):
    """The app served with a short idle limit, for this module alone."""
    with served_world(tmp_path_factory.mktemp("expiry"), "expiry", SESSION_IDLE_SECONDS=IDLE_SECONDS) as served:
        yield served


@pytest.mark.parametrize("mode", MODES)
def test_a_session_ends_while_a_referral_is_typed_and_signing_in_again_goes_back_to_it(expiry, new_page, mode):
    practitioner = expiry.person("practitioner", "POLICE")
    person = Person(new_page(), mode, "session", expiry)
    person.sign_in(practitioner)
    person.follow("New MARAC referral")
    last_request = time.monotonic()
    form_path = urlsplit(person.page.url).path

    person.date("referred_on", today())
    person.fill("victim_forename", "Bethan")
    person.fill("victim_surname", "Pryce-Jones")
    # The practitioner is called away: typing asks nothing of the server, so the idle time runs from the page load.
    time.sleep(max(0.0, last_request + IDLE_SECONDS + 1 - time.monotonic()))
    person.press("Submit referral")

    # On the sign-in page, a notice says why, and that what they typed was not saved and must be entered again.
    assert urlsplit(person.page.url).path == "/sign-in"
    notice = person.page.locator(".govuk-notification-banner")
    assert notice.is_visible()
    said = " ".join(notice.inner_text().split())
    assert "You were signed out because you had done nothing for a while." in said
    assert "What you entered was not saved." in said and "then enter it again" in said
    assert person.page.get_by_role("heading", name="Sign in").is_visible()
    with expiry.session() as session:  # nothing was made
        assert session.scalar(select(func.count(Case.id)).where(Case.referrer_id == practitioner.id)) == 0

    # Signing in again goes back to the form, empty: nothing typed was kept.
    person.sign_in_here(practitioner)
    assert urlsplit(person.page.url).path == form_path
    assert person.field("victim_forename").input_value() == ""
    assert person.field("victim_surname").input_value() == ""

    started = time.monotonic()
    fill_in_a_marac_referral(person)
    assert time.monotonic() - started < IDLE_SECONDS, "filling in took longer than the idle limit: raise it"
    person.press("Submit referral")
    person.sees("Received")
    assert "Pryce-Jones" in person.text()

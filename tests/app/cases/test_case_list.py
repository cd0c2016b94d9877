"""The case list: newest referral first, paged, each visible case once, whichever rules make it visible."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.cases.models import CaseLead
from app.core.timeutil import today
from tests.app.support import sign_in


@pytest.fixture
def small_pages(app):
    saved = app.config["PAGE_SIZE"]
    app.config["PAGE_SIZE"] = 2
    yield
    app.config["PAGE_SIZE"] = saved


def listed(browser, query: str) -> list[str]:
    page = browser.get(f"/cases?{query}")
    assert page.status_code == 200
    return re.findall(r">(MARAC-\d{6})</a>", page.get_data(as_text=True))


def test_pages_run_newest_first_with_each_case_once(app, make_user, make_referral, small_pages):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    colleague = make_user("practitioner", "POLICE")
    # The chair's own referral is visible twice over (as referrer and as coordinator): it must be listed once.
    made = [make_referral(chair if n == 2 else colleague, forename=f"Person{n}",
                          referred_on=today() - timedelta(days=10 * n)) for n in range(5)]
    browser = sign_in(app, chair)
    pages = [listed(browser, f"status=all&page={n}") for n in (1, 2, 3, 4)]
    assert pages == [[c.reference for c in made[0:2]], [c.reference for c in made[2:4]], [made[4].reference], []]


def test_a_practitioner_sees_their_own_referrals_and_those_they_lead_on_merged_in_date_order(
        app, db, make_user, make_referral, small_pages):
    me, colleague, elsewhere = (make_user("practitioner", agency) for agency in ("POLICE", "POLICE", "HEALTH"))
    mine = make_referral(me, forename="Mine", referred_on=today() - timedelta(days=1))
    led = make_referral(colleague, forename="Led", referred_on=today() - timedelta(days=2))
    db.session.add(CaseLead(case_id=led.id, agency_id=me.agency_id, user_id=me.id, named_by_id=colleague.id))
    db.session.commit()
    make_referral(colleague, forename="Theirs", referred_on=today() - timedelta(days=3))
    make_referral(elsewhere, forename="Elsewhere", referred_on=today() - timedelta(days=3))
    older = make_referral(me, forename="Older", referred_on=today() - timedelta(days=4))
    browser = sign_in(app, me)
    assert listed(browser, "status=all&page=1") + listed(browser, "status=all&page=2") == [
        mine.reference, led.reference, older.reference]

"""A coordinator of another panel opens a MARAC case in an emergency: a short reason is refused on its field, the
access then shows on every page, and the MARAC coordinator signs it off from the review queue. A panel member names
their agency's lead practitioner on the case."""
from __future__ import annotations

import pytest

from tests.browser.person import Person

REASON = "Police control room: the perpetrator is at the address now and we need the safety plan"


@pytest.mark.parametrize("mode", ("mouse", "keyboard"))
def test_emergency_access_is_reasoned_shown_and_signed_off(world, new_page, mode):
    chair = world.person("coordinator", "COUNCIL", ("marac",))
    asb_chair = world.person("coordinator", "COUNCIL", ("asb_case_review",))
    case_id = world.referral(world.person("practitioner", "POLICE"), forename="Nia")
    reference = f"MARAC-{case_id:06d}"

    opener = Person(new_page(), mode, "emergency-open", world)
    opener.sign_in(asb_chair)
    opener.visit("/cases")
    opener.follow("Open it with emergency access")
    opener.fill("reference", reference)
    opener.fill("reason", "urgent")
    opener.press("Open the case")
    summary = opener.page.locator(".govuk-error-summary")
    assert "at least 20 characters" in summary.inner_text() and opener.page.title().startswith("Error:")
    opener.correct(summary.get_by_role("link").first.inner_text())
    opener.fill("reason", REASON)
    opener.press("Open the case")
    opener.sees(f"Case {reference}")
    opener.sees("What you open is recorded")
    opener.visit("/actions")
    opener.sees(f"Emergency access to {reference}")

    reviewer = Person(new_page(), mode, "emergency-review", world)
    reviewer.sign_in(chair)
    reviewer.visit("/cases/emergency-access/reviews")
    reviewer.sees(REASON)
    reviewer.choose("outcome", "appropriate")
    reviewer.press("Sign off")
    reviewer.sees("Signed off.")
    reviewer.sees("No emergency access waits for your review.")


@pytest.mark.parametrize("mode", ("mouse", "keyboard"))
def test_a_panel_member_names_their_agencys_lead_practitioner(world, new_page, mode):
    chair = world.person("coordinator", "COUNCIL", ("marac",))
    member = world.person("panel_member", "HEALTH", ("marac",))
    lead = world.person("practitioner", "HEALTH")
    case_id = world.referral(world.person("practitioner", "POLICE"), forename="Eira")
    meeting_id = world.meeting(chair)
    world.step(chair, case_id, "accept")
    world.step(chair, case_id, "list", data={"meeting_id": meeting_id})

    person = Person(new_page(), mode, "lead-practitioner", world)
    person.sign_in(member)
    person.visit(f"/cases/{case_id}")
    person.sees("No agency has named a lead practitioner.")
    person.select("lead", f"{lead.display_name}, Northshire NHS Trust")
    person.press("Name as lead")
    person.sees(f"{lead.display_name} is now the lead practitioner for Northshire NHS Trust.")

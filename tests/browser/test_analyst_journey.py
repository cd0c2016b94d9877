"""An analyst sees the outcome measures and cannot open a case; anyone finds the accessibility statement."""
from __future__ import annotations

import pytest

from tests.browser.person import Person


@pytest.mark.parametrize("mode", ("mouse", "keyboard"))
def test_an_analyst_sees_the_measures_and_no_case(world, new_page, mode):
    practitioner = world.person("practitioner", "POLICE")
    case_ids = [world.referral(practitioner, forename=name) for name in ("Eira", "Nia", "Cerys", "Lowri", "Mari",
                                                                        "Siwan")]
    analyst = world.person("analyst", "COUNCIL")
    person = Person(new_page(), mode, "analyst", world)
    person.sign_in(analyst)  # an analyst starts on the measures
    person.sees("Referrals")
    person.follow("ASB case review", exact=True)
    person.follow("MARAC", exact=True)
    person.sees("Referrals")
    assert person.page.locator("table").count() >= 1  # every chart's figures are also in a table
    assert "Eira" not in person.text()

    person.visit(f"/cases/{case_ids[0]}")  # typed in: an analyst never opens a case
    person.sees("Page not found")
    person.visit("/cases")
    person.sees("Page not found")

    person.follow("Accessibility statement")
    person.sees("Accessibility statement for Panel case coordination")
    for heading in ("How accessible this service is", "Reporting accessibility problems with this service",
                    "Enforcement procedure", "Compliance status", "Preparation of this accessibility statement"):
        person.sees(heading)

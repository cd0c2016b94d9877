"""Filling in the MARAC referral form as a practitioner would (several journeys start with it)."""
from __future__ import annotations

from datetime import date

from app.core.timeutil import today
from tests.browser.person import Person


def fill_in_a_marac_referral(person: Person, surname: str = "Pryce-Jones") -> None:
    """Everything a visibly high-risk referral needs: dates, the victim, safe contact, the DASH checklist, a route."""
    person.date("referred_on", today())
    person.fill("victim_forename", "Bethan")
    person.fill("victim_surname", surname)
    person.date("victim_date_of_birth", date(1988, 3, 14))
    person.fill("safe_contact", "Mobile only, weekdays before 3pm")
    for n in range(1, 25):  # fifteen yes: visibly high risk
        person.choose(f"q{n}", "yes" if n <= 15 else "no")
    person.tick("routes", "visible_high_risk")

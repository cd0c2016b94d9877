"""Repeat detection: a referral is a repeat when the same victim had a MARAC referral in the 12 calendar months
before it. The victim is found through the blind index (forename + surname + date of birth), then confirmed.

Dates are fixed and none of the spans below crosses 29 February.
"""
from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.cases.services import refer
from app.core.models import Case
from app.core.subjects import REPEAT, person_index
from tests.conftest import referral_body
from tests.kit import with_reason
from workflows import Invalid


@pytest.fixture
def referrer(make_user):
    return make_user("practitioner", agency="POLICE")


def _refer(app, db, user, on: str | date, **kwargs) -> Case:
    """Refer through the real intake and commit, as the page and the API do."""
    on = date.fromisoformat(on) if isinstance(on, str) else on
    case = refer(app.extensions["panels"], with_reason(referral_body(referred_on=on, **kwargs)), user)
    db.session.commit()
    return case


# --- the 12-month window ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("first, second, is_repeat", [
    ("2024-03-10", "2024-03-10", True),   # the same day
    ("2024-03-10", "2024-03-11", True),   # the next day
    ("2024-03-10", "2025-03-09", True),   # 364 days
    ("2024-03-10", "2025-03-10", True),   # exactly 12 calendar months (365 days): still within
    ("2024-03-10", "2025-03-11", False),  # 12 months and a day (366 days): a new referral
    ("2024-05-31", "2025-05-31", True),   # month end, exactly 12 months
    ("2024-05-31", "2025-06-01", False),  # month end, 12 months and a day
    ("2023-01-15", "2024-01-16", False),  # 366 days in a year without 29 February
    # The window of a referral dated in year 1 would open before the calendar does (the schema fuzzer's 500):
    ("0001-01-01", "0001-12-31", True),   # the window reaches back to the first date there is
    ("0001-06-30", "0002-06-30", True),   # the first referral date whose window opens inside the calendar
    ("0001-06-30", "0002-07-01", False),
], ids=["same-day", "next-day", "364-days", "12-months-exactly", "366-days", "month-end-12-months",
        "month-end-plus-a-day", "366-days-2023", "year-1", "year-2-exactly", "year-2-plus-a-day"])
def test_a_referral_within_12_calendar_months_of_the_last_one_is_a_repeat(app, db, referrer, first, second,
                                                                          is_repeat):
    earlier = _refer(app, db, referrer, first)
    later = _refer(app, db, referrer, second)
    assert later.is_repeat is is_repeat
    assert later.repeat_of_id == (earlier.id if is_repeat else None)
    assert earlier.is_repeat is False


def test_the_window_counts_from_the_latest_referral_not_the_first(app, db, referrer):
    a = _refer(app, db, referrer, "2023-01-10")
    b = _refer(app, db, referrer, "2023-11-10")   # 10 months after A
    c = _refer(app, db, referrer, "2024-09-10")   # 10 months after B, 20 months after A
    assert (b.is_repeat, b.repeat_of_id) == (True, a.id)
    assert (c.is_repeat, c.repeat_of_id) == (True, b.id)


def test_repeat_of_points_at_the_latest_previous_referral_when_several_are_in_the_window(app, db, referrer):
    _refer(app, db, referrer, "2024-01-05")
    b = _refer(app, db, referrer, "2024-04-05")
    c = _refer(app, db, referrer, "2024-06-05")
    assert c.repeat_of_id == b.id


def test_after_a_gap_of_more_than_12_months_the_chain_starts_again(app, db, referrer):
    _refer(app, db, referrer, "2023-01-10")
    b = _refer(app, db, referrer, "2024-02-12")   # 13 months later: new
    c = _refer(app, db, referrer, "2024-05-12")
    assert (b.is_repeat, b.repeat_of_id) == (False, None)
    assert (c.is_repeat, c.repeat_of_id) == (True, b.id)


def test_a_repeat_may_be_identified_by_any_agency(app, db, make_user):
    police, health = make_user("practitioner", agency="POLICE"), make_user("practitioner", agency="HEALTH")
    first = _refer(app, db, police, "2024-03-10")
    second = _refer(app, db, health, "2024-09-10")
    assert (second.is_repeat, second.repeat_of_id) == (True, first.id)


@pytest.mark.parametrize("months, second, is_repeat", [
    (6, "2024-09-10", True),    # exactly 6 months
    (6, "2024-09-11", False),   # 6 months and a day
    (6, "2024-12-10", False),   # 9 months: a repeat under the default, not under 6
    (24, "2026-03-10", True),   # 24 months exactly
    (24, "2025-09-10", True),   # 18 months: not a repeat under the default
    (24, "2026-03-11", False),
])
def test_the_repeat_window_is_a_local_setting(app, db, referrer, set_setting, months, second, is_repeat):
    set_setting("marac.repeat_months", months)
    first = _refer(app, db, referrer, "2024-03-10")
    later = _refer(app, db, referrer, second)
    assert (later.is_repeat, later.repeat_of_id) == (is_repeat, first.id if is_repeat else None)


# --- the "repeat" route -------------------------------------------------------------------------------------------

def test_a_repeat_keeps_the_routes_its_referrer_chose(app, db, referrer):
    _refer(app, db, referrer, "2024-03-10")
    second = _refer(app, db, referrer, "2024-08-10", routes=["visible_high_risk"])
    assert second.route_list == ["visible_high_risk"] and second.is_repeat


def test_a_repeat_claimed_and_found_is_listed_once(app, db, referrer):
    _refer(app, db, referrer, "2024-03-10")
    second = _refer(app, db, referrer, "2024-08-10", routes=["repeat", "visible_high_risk"])
    assert second.route_list == ["repeat", "visible_high_risk"]


def test_a_repeat_claimed_by_its_referrer_needs_no_other_criterion(app, db, referrer):
    """A repeat must be re-referred whatever the other criteria: a low DASH score and the repeat route are enough."""
    _refer(app, db, referrer, "2024-03-10")
    second = _refer(app, db, referrer, "2024-08-10", yes=2, routes=["repeat"])
    assert (second.state, second.route_list, second.dash_score, second.is_repeat) == ("received", ["repeat"], 2, True)


@pytest.mark.parametrize("earlier", [None, "2024-03-10"], ids=["no-history", "history"])
def test_a_referral_with_no_route_is_refused_alike_whether_or_not_the_person_has_history(app, db, referrer, earlier):
    """The repeat probe: what the referrer is told never depends on the person's MARAC history."""
    if earlier:
        _refer(app, db, referrer, earlier)
    with pytest.raises(Invalid) as raised:
        _refer(app, db, referrer, "2024-08-10", yes=2, routes=[])
    assert raised.value.errors == {"details.routes": "Choose at least one referral route"}


def test_a_referral_with_no_route_and_no_previous_referral_is_refused(app, db, referrer):
    with pytest.raises(Invalid) as raised:
        _refer(app, db, referrer, "2024-08-10", yes=2, routes=[])
    assert raised.value.errors == {"details.routes": "Choose at least one referral route"}


@pytest.mark.parametrize("earlier", [None, "2023-03-09"], ids=["no-previous-referral", "previous-over-12-months"])
def test_the_repeat_route_claimed_without_a_referral_in_the_window_is_taken_and_not_flagged(app, db, referrer, earlier):
    if earlier:
        _refer(app, db, referrer, earlier)
    claimed = _refer(app, db, referrer, "2024-03-10", routes=["repeat"])
    assert (claimed.state, claimed.route_list, claimed.is_repeat) == ("received", ["repeat"], False)


# --- who counts as the same victim ------------------------------------------------------------------------------

@pytest.mark.parametrize("forename, surname", [
    ("zoe", "obrien"),
    ("ZOË", "O'BRIEN"),
    ("  Zoe ", " O Brien  "),
    ("Zoé", "O’Brien"),           # another accent, a typographic apostrophe
    ("Zo\u0065\u0308", "O-Brien"),   # e + combining diaeresis (decomposed), a hyphen
    ("Zoë.", "O'Brien,"),
])
def test_spelling_variants_of_the_same_name_match(app, db, referrer, forename, surname):
    first = _refer(app, db, referrer, "2024-03-10", forename="Zoë", surname="O'Brien")
    second = _refer(app, db, referrer, "2024-07-01", forename=forename, surname=surname)
    assert (second.is_repeat, second.repeat_of_id) == (True, first.id)
    assert second.subject.forename == forename.strip()  # stored as typed (trimmed), matched folded


@pytest.mark.parametrize("change", [
    {"date_of_birth": "1990-04-13"},
    {"forename": "Zoey"},
    {"surname": "O'Brian"},
    {"forename": "O'Brien", "surname": "Zoë"},   # names swapped
], ids=["other-date-of-birth", "other-forename", "other-surname", "swapped-names"])
def test_a_different_person_does_not_match(app, db, referrer, change):
    person = {"forename": "Zoë", "surname": "O'Brien", "date_of_birth": "1990-04-12"}
    _refer(app, db, referrer, "2024-03-10", **person)
    second = _refer(app, db, referrer, "2024-07-01", **{**person, **change})
    assert (second.is_repeat, second.repeat_of_id) == (False, None)


def test_a_blind_index_collision_is_rejected_by_decrypting(app, db, referrer):
    """The truncated index can collide; the match is confirmed on the decrypted names and date of birth."""
    other = _refer(app, db, referrer, "2024-03-10", forename="Harriet", surname="Nkemelu")
    other.subject.repeat_index = person_index(REPEAT, "Zoë", "O'Brien", "1990-04-12")  # force the collision
    db.session.commit()
    second = _refer(app, db, referrer, "2024-07-01", forename="Zoë", surname="O'Brien")
    assert (second.is_repeat, second.repeat_of_id) == (False, None)


ACCENTED = {"a": "áàâäã", "e": "éèêë", "i": "íìîï", "o": "óòôöõ", "u": "úùûü", "n": "ñ", "c": "ç", "y": "ýÿ"}
SEPARATORS = ["", "", "", " ", "  ", "-", "'", "’", ".", ","]


@st.composite
def spelling_of(draw, letters: str) -> str:
    """Another way of typing the same name: case, accents, spacing and punctuation vary; the letters do not."""
    typed = []
    for i, letter in enumerate(letters):
        if i:
            typed.append(draw(st.sampled_from(SEPARATORS)))
        if letter in ACCENTED and draw(st.booleans()):
            letter = draw(st.sampled_from(ACCENTED[letter]))
        typed.append(letter.upper() if draw(st.booleans()) else letter)
    form = draw(st.sampled_from(["NFC", "NFD"]))
    padding = draw(st.sampled_from(["", " ", "\t"]))
    return padding + unicodedata.normalize(form, "".join(typed)) + padding


@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(forename=spelling_of("zoe"), surname=spelling_of("obrien"))
def test_any_spelling_variant_of_the_name_finds_the_earlier_referral(app, db, referrer, forename, surname):
    panels = app.extensions["panels"]
    try:
        first = refer(panels, with_reason(referral_body(referred_on=date(2024, 3, 10), forename="Zoë",
                                                        surname="O'Brien")), referrer)
        second = refer(panels, with_reason(referral_body(referred_on=date(2024, 7, 1), forename=forename,
                                                         surname=surname)), referrer)
        assert (second.is_repeat, second.repeat_of_id) == (True, first.id)
    finally:
        db.session.rollback()  # each example starts from an empty table

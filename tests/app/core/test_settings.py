"""Settings: local rules kept as versions (who, when, why, the value before, from which date), within their legal
bounds, changed on the settings pages by administrators only; a case keeps the rules it was received under."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app import create_app
from app.core import settings
from app.core.errors import Conflict
from app.core.extensions import db as _db
from app.core.settings import SettingVersion
from app.core.timeutil import today
from tests.app.support import audit_rows, gov_date, page_text, post_form, sign_in, step, submit
from tests.conftest import test_config as config_for
from workflows.models import Deadline

THRESHOLD = "asb_case_review.qualifying_complaints"


def test_a_setting_is_its_declared_default_until_changed(app):
    assert settings.value(THRESHOLD) == 3
    assert settings.value("marac.repeat_months") == 12
    assert settings.rules_version() == 0


def test_a_change_is_a_new_version_with_who_when_why_and_the_value_before(app, make_user):
    admin = make_user("admin", "COUNCIL")
    assert settings.change(THRESHOLD, 2, effective_from=None, reason="Board decision of 3 March", user=admin,
                           expected_version=0) == {}
    _db.session.commit()
    (row,) = settings.history(THRESHOLD)
    assert (row.version, row.parsed, row.parsed_previous, row.effective_from, row.reason, row.changed_by_id) == \
        (1, 2, 3, today(), "Board decision of 3 March", admin.id)
    assert settings.value(THRESHOLD) == 2
    assert audit_rows(action="settings.change")[0].detail == f"key={THRESHOLD} version=1 from={today().isoformat()}"


def test_a_change_from_a_later_date_is_not_in_force_until_then(app, set_setting):
    starts = today() + timedelta(days=10)
    set_setting("marac.minutes_per_case", 15, effective_from=starts)
    assert settings.value("marac.minutes_per_case") == 12
    assert settings.value("marac.minutes_per_case", on=starts) == 15
    assert [row.parsed for row in settings.pending("marac.minutes_per_case")] == [15]


@pytest.mark.parametrize("key, value, field, message", [
    (THRESHOLD, 4, "value", "Enter a number from 1 to 3. The Act lets an area set a lower number, never one above"),
    (THRESHOLD, 0, "value", "Enter a number from 1 to 3"),
    ("marac.repeat_months", "twelve", "value", "Enter a whole number"),
    ("marac.triage_model", "whenever", "value", "Choose one of the options"),
    ("service.accessibility_contact", "nobody", "value", "Enter an email address"),
    ("service.name", "   ", "value", "Enter a value"),
])
def test_a_value_outside_its_bounds_is_refused_and_nothing_is_kept(app, make_user, key, value, field, message):
    errors = settings.change(key, value, effective_from=None, reason="Why not", user=make_user("admin", "COUNCIL"),
                             expected_version=0)
    assert errors[field].startswith(message)
    assert _db.session.scalars(select(SettingVersion)).all() == []


def test_a_change_needs_a_reason_and_never_reaches_back(app, make_user):
    admin = make_user("admin", "COUNCIL")
    errors = settings.change(THRESHOLD, 2, effective_from=today() - timedelta(days=1), reason=" ", user=admin,
                             expected_version=0)
    assert set(errors) == {"reason", "effective_from"}


def test_a_second_administrator_saving_the_same_version_is_a_conflict(app, make_user, set_setting):
    set_setting(THRESHOLD, 2)
    with pytest.raises(Conflict):
        settings.change(THRESHOLD, 1, effective_from=None, reason="Stale", user=make_user("admin", "COUNCIL"),
                        expected_version=0)


def test_a_case_keeps_the_threshold_it_was_received_under(app, make_case, set_setting):
    """Lowering the ASB threshold to 2 does not rewrite an application received under 3."""
    before = make_case("asb_case_review", "gathering", complaints=2, forename="Ffion")
    assert not before.met_on_count and before.assessment.required == 3
    set_setting(THRESHOLD, 2, reason="The partnership lowered the threshold")
    after = make_case("asb_case_review", "gathering", complaints=2, forename="Gwen")
    assert after.rules_version > before.rules_version
    assert after.met_on_count and after.assessment.required == 2
    _db.session.expire_all()
    assert not before.met_on_count and before.assessment.required == 3


def test_a_case_received_before_a_change_takes_effect_keeps_the_old_rule(app, make_case, set_setting):
    set_setting(THRESHOLD, 2, effective_from=today() + timedelta(days=30))
    case = make_case("asb_case_review", "gathering", complaints=2)
    assert case.assessment.required == 3


def test_a_deadline_opened_later_follows_the_rules_the_case_was_received_under(app, make_case, set_setting):
    case = make_case("asb_case_review", "received", referred_on=date(2025, 4, 17))
    set_setting("asb_case_review.decision_working_days", 20)
    step(case, make_case.person("coordinator", "asb_case_review"), "acknowledge")
    due = _db.session.scalar(select(Deadline.due_on).where(Deadline.case_id == case.id,
                                                           Deadline.state == "acknowledged"))
    assert due == date(2025, 5, 6)  # ten working days after the Easter application, not twenty


def test_the_configuration_gives_only_a_first_value_within_the_bounds(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'settings.db'}"
    with pytest.raises(RuntimeError, match="ASB_QUALIFYING_COMPLAINTS = 4: Enter a number from 1 to 3"):
        create_app({**config_for(url), "ASB_QUALIFYING_COMPLAINTS": 4})
    monkeypatch.setenv("MARAC_REPEAT_MONTHS", "6")
    configured = create_app(config_for(url))
    assert configured.extensions["setting_defaults"]["marac.repeat_months"] == 6


def test_the_settings_pages_are_for_administrators_only(app, make_user):
    for role in ("practitioner", "coordinator", "analyst"):
        browser = sign_in(app, make_user(role, "COUNCIL", panels=("marac",) if role == "coordinator" else ()))
        assert browser.get("/admin/settings").status_code == 404
        assert browser.get(f"/admin/settings/{THRESHOLD}").status_code == 404


def test_an_administrator_changes_a_setting_on_its_page_and_sees_its_history(app, make_user):
    browser = sign_in(app, make_user("admin", "COUNCIL"))
    listing = page_text(browser, "/admin/settings")
    assert "ASB case review" in listing and "Qualifying complaints that meet the threshold" in listing
    refused = submit(browser, f"/admin/settings/{THRESHOLD}", {"value": "5", "reason": "Trying"})
    assert refused.status_code == 422 and "never one above three" in refused.get_data(as_text=True)
    starts = today() + timedelta(days=7)
    done = submit(browser, f"/admin/settings/{THRESHOLD}", {"value": "2", "reason": "Board decision",
                                                            "effective_from": gov_date(starts)})
    assert done.status_code == 302
    page = page_text(browser, f"/admin/settings/{THRESHOLD}")
    assert "Board decision" in page and f"From {starts.day} {starts:%B %Y}" in page
    assert settings.value(THRESHOLD) == 3 and settings.value(THRESHOLD, on=starts) == 2


def test_an_unknown_setting_is_not_found(app, make_user):
    browser = sign_in(app, make_user("admin", "COUNCIL"))
    for key in ("marac.nothing", "nothing", "nowhere.at_all"):
        assert browser.get(f"/admin/settings/{key}").status_code == 404


def test_the_service_name_is_a_setting_every_page_shows(app, client, set_setting):
    set_setting("service.name", "Northshire Panels")
    page = client.get("/accessibility").get_data(as_text=True)
    assert "Accessibility statement for Northshire Panels" in page and "– Northshire Panels</title>" in page


def test_the_backdating_limit_is_a_setting_with_no_limit_until_set(app, make_case, set_setting):
    from workflows import Invalid
    case = make_case("marac", "received", referred_on=today() - timedelta(days=40))
    coordinator = make_case.person("coordinator", "marac")
    set_setting("cases.backdating_days", 7)
    with pytest.raises(Invalid) as refused:
        step(case, coordinator, "accept", occurred_on=today() - timedelta(days=8))
    assert refused.value.errors == {"occurred_on": "A step can be dated at most 7 days back (this area's setting)"}
    _db.session.rollback()
    step(case, coordinator, "accept", occurred_on=today() - timedelta(days=7))
    assert case.state == "accepted"


def test_a_stale_change_on_the_page_is_a_409_and_changes_nothing(app, make_user):
    first, second = (sign_in(app, make_user("admin", "COUNCIL")) for _ in range(2))
    assert submit(first, f"/admin/settings/{THRESHOLD}", {"value": "2", "reason": "Board decision"}).status_code == 302
    stale = post_form(second, f"/admin/settings/{THRESHOLD}", {"value": "1", "reason": "Late", "version": "0"})
    assert stale.status_code == 409 and "Someone else changed this setting" in stale.get_data(as_text=True)
    assert [row.parsed for row in settings.history(THRESHOLD)] == [2]

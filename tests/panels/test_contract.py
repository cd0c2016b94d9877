"""The panel contract: every registered panel fills it in consistently, and Panel.validate() refuses one that does
not with a sentence naming what is wrong."""
from __future__ import annotations

import dataclasses

import pytest

from app.core.settings import Setting, SettingGroup
from app.measures.definition import Count
from panels import PANELS
from panels.base import Meetings, Retention

PANEL_KEYS = sorted(PANELS)


@pytest.mark.parametrize("key", PANEL_KEYS)
def test_every_registered_panel_keeps_its_contract(_apps, key):
    panel = PANELS[key]
    assert panel.problems() == []
    panel.validate()


@pytest.mark.parametrize("key", PANEL_KEYS)
def test_the_registry_gave_the_shared_code_what_the_panel_declared(app, key):
    from app.core import access, roles, settings
    from app.core.models import case_reference
    from workflows.engine import workflow_named

    panel = PANELS[key]
    assert app.extensions["panels"][key] is panel
    assert workflow_named(key) is panel.workflow
    assert access.access_model(key) is panel.access
    assert all(roles.role(r.key) == r for r in panel.access.roles)
    assert settings.group(key) is panel.settings
    assert case_reference(key, 7) == f"{panel.reference_prefix}-000007"
    assert panel.pages.blueprint.name in app.blueprints


@pytest.mark.parametrize("key", PANEL_KEYS)
def test_every_setting_says_what_it_means_and_its_default_is_within_its_bounds(key):
    for setting in PANELS[key].settings.settings:
        assert setting.help.strip() and setting.label.strip()
        assert setting.problem(setting.default) is None, setting.name
        if setting.kind == "int":
            assert setting.minimum is not None and setting.maximum is not None, setting.name


def _broken(name: str, **changes) -> list[str]:
    return dataclasses.replace(PANELS[name], **changes).problems()


@pytest.mark.parametrize("change, sentence", [
    (lambda p: {"meetings": dataclasses.replace(p.meetings, ready_state="waiting")},
     "its ready state 'waiting' is not in the workflow"),
    (lambda p: {"meetings": dataclasses.replace(p.meetings, ready_state="draft")},
     "no step reaches its ready state 'draft'"),
    (lambda p: {"meetings": dataclasses.replace(p.meetings, meeting_step="discuss")},
     "its meeting step 'discuss' is not in the workflow"),
    (lambda p: {"meetings": dataclasses.replace(p.meetings, list_step="submit")},
     "its list step 'submit' does not start from the ready state"),
    (lambda p: {"research_states": ("pondering",)}, "its research state 'pondering' is not in the workflow"),
    (lambda p: {"pages": dataclasses.replace(p.pages, step_forms={"dance": object})},
     "the step form for 'dance' has no step of that name"),
    (lambda p: {"settings": SettingGroup(p.key, p.title, (*p.settings.settings, Setting(
        "window", "A window", None, "Days a thing stays open.")))}, "setting 'window' has no default"),
    (lambda p: {"settings": SettingGroup(p.key, p.title, (*p.settings.settings, Setting(
        "window", "A window", 99, "Days a thing stays open.", minimum=1, maximum=3)))},
     "setting 'window''s default 99 is not allowed"),
    (lambda p: {"settings": SettingGroup("another", p.title, p.settings.settings)},
     "its settings group is keyed 'another', not after the panel"),
    (lambda p: {"measures": dataclasses.replace(p.measures, panel="another")}, "its measures are for panel 'another'"),
    (lambda p: {"access": dataclasses.replace(p.access, compartment=True)},
     "a compartment cannot take part in cross-panel matching"),
    (lambda p: {"access": dataclasses.replace(p.access, relations=("referrer", "gossip"))},
     "its access model names unknown relation 'gossip'"),
    (lambda p: {"retention": Retention(0, "")}, "its retention needs a period of at least a year"),
    (lambda p: {"reference_prefix": "marac-"}, "its reference prefix 'marac-' must be upper-case"),
    (lambda p: {"key": "Other"}, "its key 'Other' must be lower-case"),
])
@pytest.mark.parametrize("key", PANEL_KEYS)
def test_an_inconsistent_panel_is_refused_with_a_sentence_saying_why(_apps, key, change, sentence):
    panel = PANELS[key]
    problems = _broken(key, **change(panel))
    assert any(sentence in problem for problem in problems), problems
    with pytest.raises(ValueError, match=f"panel {dataclasses.replace(panel, **change(panel)).key!r}"):
        dataclasses.replace(panel, **change(panel)).validate()


def test_a_panel_without_meetings_needs_no_meeting_rules(_apps):
    panel = dataclasses.replace(PANELS["marac"], meetings=None)
    assert panel.problems() == []
    assert isinstance(PANELS["marac"].meetings, Meetings)


@pytest.mark.parametrize("key", PANEL_KEYS)
def test_a_measure_key_used_twice_is_refused_where_the_measures_are_declared(key):
    measures = PANELS[key].measures
    with pytest.raises(ValueError, match="measure keys repeat"):
        dataclasses.replace(measures, measures=(*measures.measures, Count(measures.measures[0].key, "Again", "Twice.")))

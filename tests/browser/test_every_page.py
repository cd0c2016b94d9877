"""Beyond the journeys: every page each demo person can reach without filling anything in, checked by axe-core.

The demo partnership (cases in every state, a recorded meeting and a coming one, series, notifications) is loaded
into a fresh database; each demo person signs in and opens every GET page whose address needs at most a case, a
meeting, a series or a panel, with ids taken from what that person can see.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from app.admin import demo
from app.core.access import visible_cases
from app.core.models import User
from app.meetings.access import visible_meetings
from app.meetings.models import MeetingSeries
from tests.browser.conftest import served_world
from tests.browser.person import Person

PEOPLE = ("practitioner", "coordinator", "member.health", "asb.coordinator", "analyst", "admin")
#: Pages that are downloads or redirects rather than pages to read, or that need a one-time token.
NOT_PAGES = ("export", "download", "csv", "json", "pdf", "ics", "openapi", "assets", "logout", "open_link",
             "old_link", "set_password", "letter", "index", "agenda_html", "minutes_html")


@pytest.fixture(scope="module")
def demo_world(tmp_path_factory):
    with served_world(tmp_path_factory.mktemp("demo"), "demo", agencies=False) as world:
        with world.session():
            demo.load()
        world.password = demo.DEMO_PASSWORD
        yield world


def _pages(world, email: str) -> list[str]:
    """The addresses this person can open: GET routes, filled with ids of things they may see."""
    with world.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        case = session.scalar(visible_cases(user).limit(1)) if user.role != "analyst" else None
        meeting = session.scalar(visible_meetings(user).limit(1)) if user.role in ("coordinator", "panel_member") \
            else None
        series = session.scalar(select(MeetingSeries).where(MeetingSeries.panel.in_(user.panels_as("coordinator")))
                                .limit(1))
        values = {"case_id": case and case.id, "meeting_id": meeting and meeting.id, "series_id": series and series.id,
                  "panel": "marac"}
        pages = []
        with world.app.test_request_context():
            for rule in world.app.url_map.iter_rules():
                if "GET" not in rule.methods or any(part in rule.endpoint for part in NOT_PAGES):
                    continue
                if set(rule.arguments) - {k for k, v in values.items() if v}:
                    continue
                pages.append(rule.build({k: values[k] for k in rule.arguments}, append_unknown=False)[1])
        return sorted(set(pages))


@pytest.mark.parametrize("local", PEOPLE)
def test_every_page_a_demo_person_reaches_has_no_accessibility_failures(demo_world, new_page, local):
    with demo_world.session() as session:
        user = session.scalar(select(User).where(User.email == demo.demo_email(local)))
        session.expunge(user)
    person = Person(new_page(), "mouse", f"every-page-{local.replace('.', '-')}", demo_world)
    person.sign_in(user)
    opened = 0
    for path in _pages(demo_world, user.email):
        response = person.page.goto(demo_world.address + path)
        if response.status == 200 and "text/html" in response.headers.get("content-type", ""):
            person.check_accessibility()
            opened += 1
    assert opened >= (10 if local in ("coordinator", "asb.coordinator") else 3), opened

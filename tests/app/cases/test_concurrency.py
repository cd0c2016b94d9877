"""Hostile test 5 (security bar RE-1, RE-2; ASVS 15.4.2): two coordinators save the same thing at the same moment.

Both load the same version, then both submit in parallel threads released together. Exactly one save commits; the
other is told someone else changed it first (409), and nothing of it is written. Run on SQLite and PostgreSQL.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from app.actions.models import Action
from app.core.extensions import db as _db
from app.core.timeutil import today
from tests.app.support import case_state, form_fields, list_case, meeting_on, sign_in, step, transition_count


def _together(posts):
    """Send the posts from parallel threads released at the same instant; return their status codes."""
    barrier = threading.Barrier(len(posts))

    def send(post):
        browser, path, data = post
        barrier.wait()
        return browser.post(path, data=data).status_code
    with ThreadPoolExecutor(len(posts)) as pool:
        return list(pool.map(send, posts))


def test_two_coordinators_taking_steps_at_once_one_wins_the_other_gets_409(app, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    deputy = make_user("coordinator", "IDVA", panels=("marac",))
    case = make_referral(make_user("practitioner", "POLICE"))
    browsers = [sign_in(app, chair), sign_in(app, deputy)]
    state = case_state(case.id)
    posts = []
    for browser, trigger, extra in ((browsers[0], "accept", {}), (browsers[1], "decline", {"reason": "Below"})):
        path = f"/cases/{case.id}/steps/{trigger}"
        fields = form_fields(browser.get(path).get_data(as_text=True))
        posts.append((browser, path, {"csrf_token": fields["csrf_token"][0], "version": fields["version"][0],
                                      **extra}))
    statuses = _together(posts)
    assert sorted(statuses) == [302, 409], statuses
    new_state, version = case_state(case.id)
    assert new_state == ("accepted" if statuses[0] == 302 else "declined")
    assert version == state[1] + 1 and transition_count(case.id) == 2  # submitted, then the one winner


def test_two_agencies_updating_one_action_at_once_one_wins_the_other_gets_409(app, make_user, make_referral):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    police = make_user("panel_member", "POLICE", panels=("marac",))  # the owning agency's representative
    case = list_case(make_referral(make_user("practitioner", "POLICE")), chair, meeting_on(chair, today()))
    step(case, chair, "hear", data={"actions": [{"owner_agency": "POLICE", "text": "Visit the address",
                                                 "due_on": (today() + timedelta(days=7)).isoformat()}]})
    action_id = _db.session.scalar(select(Action.id))
    path = f"/cases/{case.id}/actions/{action_id}"
    posts = []
    for user, status in ((chair, "complete"), (police, "not_done")):
        browser = sign_in(app, user)
        fields = form_fields(browser.get(path).get_data(as_text=True))
        posts.append((browser, path, {"csrf_token": fields["csrf_token"][0], "version": fields["version"][0],
                                      "status": status, "outcome": "Recorded on the system"}))
    statuses = _together(posts)
    assert sorted(statuses) == [302, 409], statuses
    _db.session.expire_all()
    action = _db.session.get(Action, action_id)
    assert action.version == 2 and action.status == ("complete" if statuses[0] == 302 else "not_done")

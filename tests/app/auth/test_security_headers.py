"""Every route declares its access policy, and every response carries the security headers (security bar AC-1,
SE-5, IN-2; ASVS 3.4.1, 3.4.3, 3.4.6, 8.2.1, 14.3.2)."""
from __future__ import annotations

import re
from pathlib import Path

from flask import url_for

from app import create_app
from app.auth.security import CONTENT_SECURITY_POLICY
from app.core.access import POLICIES, policy_of
from app.core.timeutil import today
from tests.app.support import list_case, meeting_on, sign_in, step
from tests.conftest import test_config as config_for

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


def test_every_route_declares_an_access_policy(app):
    """AC-1: a new route without @policy(...) fails here (and is refused with a 404 at run time)."""
    undeclared = sorted(rule.rule for rule in app.url_map.iter_rules()
                        if policy_of(app.view_functions[rule.endpoint]) not in POLICIES)
    assert undeclared == []


def test_a_route_without_a_policy_is_refused(tmp_path):
    fresh = create_app(config_for(f"sqlite:///{tmp_path / 'routes.db'}"))

    @fresh.get("/no-policy-here")
    def no_policy():
        return "should never be served"
    response = fresh.test_client().get("/no-policy-here")
    assert response.status_code == 404 and "should never be served" not in response.get_data(as_text=True)


def test_the_content_security_policy_allows_no_inline_script_or_style():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "sha256-" not in CONTENT_SECURITY_POLICY
    assert "nonce-" not in CONTENT_SECURITY_POLICY


def test_templates_have_no_inline_script_style_or_unescaped_values():
    """IN-2: every script is a file; no style attributes; |safe only on text escaped a step before."""
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for tag in re.findall(r"<script[^>]*>", text):
            assert "src=" in tag, (template.name, tag)
        assert not re.search(r"\sstyle=", text), template.name
        for line in text.splitlines():
            if "| safe" in line or "|safe" in line:
                assert 'map("e")' in line, (template.name, line)


def _get_paths(app, ids: dict) -> list[str]:
    with app.test_request_context():
        paths = []
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in ("auth.open_link",):
                continue
            if set(rule.arguments) - set(ids):
                continue
            paths.append(url_for(rule.endpoint, **{arg: ids[arg] for arg in rule.arguments}))
        return paths


def _assert_headers(path: str, response) -> None:
    headers = response.headers
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains", path
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["Referrer-Policy"] == "no-referrer", path
    assert headers["X-Frame-Options"] == "DENY", path
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin", path
    assert "camera=()" in headers["Permissions-Policy"], path
    if not path.startswith("/assets/"):
        assert headers["Cache-Control"] == "no-store", path


def test_every_get_route_answers_with_the_security_headers_and_no_store(app, make_user, make_referral, api):
    chair = make_user("coordinator", "COUNCIL", panels=("marac",))
    admin = make_user("admin", "COUNCIL")
    case = list_case(make_referral(make_user("practitioner", "POLICE")), chair, meeting_on(chair, today()))
    step(case, chair, "hear", data={"actions": [{"owner_agency": "POLICE", "text": "Visit",
                                                 "due_on": today().isoformat()}]})
    ids = {"case_id": case.id, "action_id": 1, "letter_id": 1, "meeting_id": 1, "item_id": 1, "series_id": 1,
           "user_id": admin.id, "trigger": "close", "filename": "app.css", "change": "disable", "notification_id": 1,
           "key": "marac.repeat_months"}
    browsers = {"signed out": app.test_client(), "coordinator": sign_in(app, chair), "admin": sign_in(app, admin)}
    checked = 0
    for who, browser in browsers.items():
        for path in _get_paths(app, ids):
            response = api.get(chair, path) if path.startswith("/api/") else browser.get(path)
            assert response.status_code < 500, (who, path, response.status_code)
            _assert_headers(path, response)
            checked += 1
    assert checked > 60
    for path in ("/cases/987654", "/no/such/page"):
        _assert_headers(path, browsers["coordinator"].get(path))

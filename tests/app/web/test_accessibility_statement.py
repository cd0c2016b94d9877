"""The accessibility statement: public, linked from every page's footer, in the GOV.UK model statement's order."""
from __future__ import annotations

from tests.app.support import page_text, sign_in

HEADINGS = ("How accessible this service is", "Feedback and contact information",
            "Reporting accessibility problems with this service", "Enforcement procedure",
            "Technical information about this service's accessibility", "Compliance status",
            "Non-accessible content", "What we're doing to improve accessibility",
            "Preparation of this accessibility statement")


def test_the_statement_is_public_and_follows_the_model_structure(app, client, set_setting):
    set_setting("service.owner", "Northshire Community Safety Partnership")
    set_setting("service.accessibility_contact", "access@northshire.example")
    response = client.get("/accessibility")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    positions = [html.index(h) for h in HEADINGS]
    assert positions == sorted(positions)
    assert "Northshire Community Safety Partnership" in html and 'href="mailto:access@northshire.example"' in html
    assert "axe-core" in html and "Tab key" in html


def test_every_page_links_to_it_from_the_footer(app, client, make_user):
    footer = 'href="/accessibility">Accessibility statement</a>'
    assert footer in client.get("/sign-in").get_data(as_text=True)
    assert footer in page_text(sign_in(app, make_user("practitioner", "POLICE")), "/cases")
    assert footer in client.get("/no-such-page").get_data(as_text=True)

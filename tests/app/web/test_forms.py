"""Shared form pieces: the error summary links each message to the box to correct."""
from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField

from app.web.forms import GovDateInput, GovTextInput, form_error_links, past_date_field


class _Form(Form):
    name = StringField("Name", widget=GovTextInput())
    born = past_date_field("Date of birth", required=True)
    seen = past_date_field("Date seen", required=False)


def test_a_dates_message_links_to_its_day_box_and_the_whole_forms_to_nothing():
    form = _Form(MultiDict([("name", "Ann"), ("born", "31"), ("born", "2"), ("born", "1990")]))
    assert isinstance(form.born.widget, GovDateInput)
    assert not form.validate()
    form.form_errors.append("Someone else changed this case")
    form.name.errors = ["Enter a shorter name"]
    items = form_error_links(form)
    assert {item["text"]: item.get("href") for item in items} == {
        "Enter a shorter name": "#name",
        "Enter date of birth as day, month and year": "#born-day",  # the day box: the script can focus it
        "Someone else changed this case": None,  # about the whole form: no link to the top of the page
    }

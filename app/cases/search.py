"""Finding a case by its reference, or by the person's names and date of birth, among the cases a user may open.

The access policy is part of every query: a case the user may not open is never found and never counted, so a
search that matches only such cases looks exactly like one that matches nothing.
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import joinedload, selectinload

from app.core.access import matching_panels, visible_cases
from app.core.crypto import normalise
from app.core.extensions import db
from app.core.models import MAX_INT, NEWEST_FIRST, Case
from app.core.subjects import SEARCH, is_person, same_person
from app.core.timeutil import today
from app.web.forms import (
    NUL_MESSAGE,
    DateField,
    FlaskForm,
    GovDateInput,
    GovSubmitInput,
    GovTextInput,
    Length,
    StringField,
    SubmitField,
)

#: MARAC-000123, marac 123, or just 123 (ASCII digits only: int() would also read "١٢٣").
REFERENCE = re.compile(r"(?:([a-z][a-z_]*)\s*-?\s*)?0*([0-9]{1,12})", re.ASCII)


class SearchForm(FlaskForm):
    """Either a case reference, or a person's first name, last name and date of birth; never both."""

    reference = StringField("Case reference", widget=GovTextInput(), description="For example, MARAC-000123, or 123",
                            validators=[Length(max=40, message="Case reference must be 40 characters or fewer")])
    forename = StringField("First name", widget=GovTextInput(),
                           validators=[Length(max=100, message="First name must be 100 characters or fewer")])
    surname = StringField("Last name", widget=GovTextInput(),
                          validators=[Length(max=100, message="Last name must be 100 characters or fewer")])
    date_of_birth = DateField("Date of birth", widget=GovDateInput(), format="%d %m %Y",
                              description="For example, 27 3 1990")
    submit = SubmitField("Search", widget=GovSubmitInput())

    def __init__(self, *args, panels=None, **kwargs):
        super().__init__(*args, **kwargs)
        #: A reference's prefix, as people type it, names its panel.
        self.prefixes = {p.reference_prefix.casefold(): key for key, p in (panels or {}).items()}

    @property
    def kind(self) -> str:
        return "reference" if self._text(self.reference) else "person"

    def reference_key(self) -> tuple[str | None, int] | None:
        """The (panel or None, case id) a typed reference names, or None when it is not a reference."""
        match = REFERENCE.fullmatch(self._text(self.reference).casefold())
        if match is None or (match[1] is not None and match[1] not in self.prefixes):
            return None
        return self.prefixes.get(match[1]), int(match[2])

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        dob = self.date_of_birth
        dob.errors = [e for e in dob.errors if e == NUL_MESSAGE]  # DateField's "Not a valid date value." is ours
        names = (self.forename, self.surname)
        dob_typed = any((box or "").strip() for box in dob.raw_data or ())
        person_given = dob_typed or any(self._text(f) for f in names)
        if self._text(self.reference):
            if person_given:
                self._error(self.reference, "Search by case reference or by the person's details, not both")
            elif self.reference_key() is None:
                self._error(self.reference, "Enter a case reference like MARAC-000123, or just its number")
        elif person_given:
            for field, which in zip(names, ("first", "last"), strict=True):
                if not self._text(field):
                    self._error(field, f"Enter the person's {which} name")
                elif not normalise(field.data):
                    self._error(field, f"Enter the person's {which} name with at least one letter or number")
            if not dob_typed:
                self._error(dob, "Enter the person's date of birth")
            elif dob.data is None:
                self._error(dob, "Date of birth must be a real date")
            elif dob.data > today():
                self._error(dob, "Date of birth must be today or in the past")
        else:
            self._error(self.reference, "Enter a case reference, or the person's first name, last name and date "
                                        "of birth")
        return not self.errors

    @staticmethod
    def _text(field) -> str:
        return (field.data or "").strip()

    @staticmethod
    def _error(field, message: str) -> None:
        field.errors = [*field.errors, message]


def _found(user):
    """The cases the user may open, newest first, with what a result row shows."""
    return (visible_cases(user).order_by(*NEWEST_FIRST)
            .options(selectinload(Case.subject), joinedload(Case.source_agency)))


def by_reference(user, panel: str | None, case_id: int) -> list[Case]:
    """The case with this reference, if the user may open it."""
    if not 0 < case_id <= MAX_INT:
        return []
    stmt = _found(user).where(Case.id == case_id)
    if panel is not None:
        stmt = stmt.where(Case.panel == panel)
    return list(db.session.scalars(stmt))


def by_person(user, forename: str, surname: str, date_of_birth: date) -> list[Case]:
    """The cases about this person that the user may open: found by the blind index, confirmed by decryption, in the
    panels that take part in cross-panel matching (a compartment's cases are never found by a person's details)."""
    dob = date_of_birth.isoformat()
    same_index = same_person(SEARCH, forename, surname, dob)  # search's own index, not matching's or repeats'
    candidates = db.session.scalars(_found(user).where(Case.subject_id.in_(same_index),
                                                       Case.panel.in_(matching_panels())))
    return [case for case in candidates if is_person(case.subject, forename, surname, dob)]

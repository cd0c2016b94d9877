"""MARAC referral: the panel's own table beside the shared cases row."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panels.kit import Case, CaseTransition, EncryptedField, Subject
from panels.marac import dash

ROUTES = {
    "visible_high_risk": "Visible high risk (DASH score)",
    "professional_judgement": "Professional judgement",
    "potential_escalation": "Potential escalation",
    "repeat": "Repeat referral",
}


class MaracReferral(Case):
    __tablename__ = "marac_referrals"
    __mapper_args__ = {"polymorphic_identity": "marac"}
    # The measures count children over every referral of a period: from this index, without reading the rows'
    # encrypted columns.
    __table_args__ = (Index("ix_marac_referrals_children", "id", postgresql_include=["children_in_household"]),)

    id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    #: One character per DASH question (Y/N/U), encrypted: the answers are special-category data.
    dash_answers_ct: Mapped[str | None] = mapped_column(Text)
    dash_score: Mapped[int] = mapped_column(default=0)
    #: Comma-separated referral routes (keys of ROUTES).
    routes: Mapped[str] = mapped_column(String(120), default="")
    professional_judgement_reasons_ct: Mapped[str | None] = mapped_column(Text)
    incidents_last_12_months: Mapped[int | None]
    children_in_household: Mapped[int] = mapped_column(default=0)
    perpetrator_id: Mapped[int | None] = mapped_column(ForeignKey("subjects.id"))
    safe_contact_ct: Mapped[str | None] = mapped_column(Text)

    dash_answers = EncryptedField()
    professional_judgement_reasons = EncryptedField()
    safe_contact = EncryptedField()

    perpetrator: Mapped[Subject | None] = relationship(foreign_keys=[perpetrator_id])

    @property
    def route_list(self) -> list[str]:
        return [r for r in self.routes.split(",") if r]

    @property
    def route_labels(self) -> list[str]:
        return [ROUTES.get(r, r) for r in self.route_list]

    @property
    def answers(self) -> dict[str, str]:
        return dash.decode(self.dash_answers) if self.dash_answers else {}

    @property
    def answered_questions(self) -> list[tuple[str, str]]:
        """Each DASH question with the answer given, in checklist order."""
        answers = self.answers
        return [(question, dash.ANSWERS[answers[key]]) for key, question in zip(dash.KEYS, dash.QUESTIONS, strict=True)
                if key in answers]


#: The day each case was heard, for the measures (days to hearing, cases discussed): a small index the planner
#: merge-joins with cases in id order, instead of hashing every transition of every case.
HEARD = Index("ix_case_transitions_heard", CaseTransition.case_id, postgresql_include=["occurred_on"],
              postgresql_where=CaseTransition.to_state == "heard", sqlite_where=CaseTransition.to_state == "heard")

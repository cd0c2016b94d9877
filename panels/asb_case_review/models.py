"""ASB case review application: the panel's tables beside the shared cases row."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from panels.asb_case_review import settings
from panels.asb_case_review.threshold import Assessment, assess
from panels.kit import Case, EncryptedField, db, new_uid, utcnow

APPLICANT_KINDS = {"individual": "An individual", "business": "A business", "community_group": "A community group"}
#: Grounds on which the bodies may decide the threshold is met although too few complaints qualify (s104).
DISCRETION_GROUNDS = {
    "persistence": "The persistence of the anti-social behaviour",
    "harm": "The harm or potential harm caused",
    "response": "The adequacy of the response to the complaints",
}
LETTER_KINDS = {"acknowledgement": "Acknowledgement", "threshold_decision": "Threshold decision",
                "outcome": "Outcome of the case review"}


class AsbApplication(Case):
    __tablename__ = "asb_applications"
    __mapper_args__ = {"polymorphic_identity": "asb_case_review"}

    id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    applicant_kind: Mapped[str] = mapped_column(String(20))
    #: Made by someone else (family, carer, councillor, MP) for the victim, whose consent must be recorded.
    on_behalf: Mapped[bool] = mapped_column(default=False)
    consent_recorded: Mapped[bool] = mapped_column(default=False)
    #: Qualifying incidents as computed from the complaints at intake (plain, for lists and measures).
    qualifying_complaints: Mapped[int] = mapped_column(default=0)
    #: The threshold decision: None until made; the ground when met on discretion.
    threshold_met: Mapped[bool | None]
    threshold_ground: Mapped[str | None] = mapped_column(String(20))
    decided_on: Mapped[date | None]
    applicant_attended: Mapped[bool | None]
    applicant_views_ct: Mapped[str | None] = mapped_column(Text)
    reviewed_on: Mapped[date | None]
    has_recommendations: Mapped[bool | None]
    notified_on: Mapped[date | None]
    escalated_on: Mapped[date | None]

    applicant_views = EncryptedField()

    complaints: Mapped[list[AsbComplaint]] = relationship(order_by="AsbComplaint.incident_on, AsbComplaint.id",
                                                          cascade="all, delete-orphan")
    letters: Mapped[list[AsbLetter]] = relationship(order_by="AsbLetter.id", cascade="all, delete-orphan")

    @property
    def assessment(self) -> Assessment:
        """The threshold as computed from the complaints, against the number the case was received under."""
        return assess(self.complaints, self.referred_on, settings.qualifying_complaints(self))

    @property
    def met_on_count(self) -> bool:
        """Whether the qualifying complaints found at intake reach this area's number (s104)."""
        return self.qualifying_complaints >= settings.qualifying_complaints(self)

    @property
    def applicant_kind_label(self) -> str:
        return APPLICANT_KINDS.get(self.applicant_kind, self.applicant_kind)

    @property
    def discretion_ground_label(self) -> str | None:
        """The ground of a threshold met on discretion, as a sentence fragment."""
        return DISCRETION_GROUNDS.get(self.threshold_ground or "")


class AsbComplaint(db.Model):
    """An earlier complaint about the behaviour: when it happened, when and to whom it was reported."""

    __tablename__ = "asb_complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("asb_applications.id", ondelete="CASCADE"), index=True)
    incident_on: Mapped[date]
    reported_on: Mapped[date]
    agency: Mapped[str] = mapped_column(String(120))
    reference_ct: Mapped[str | None] = mapped_column(Text)

    reference = EncryptedField()


class AsbLetter(db.Model):
    """A letter to the applicant, generated from its template at the step and kept as sent (encrypted)."""

    __tablename__ = "asb_letters"
    id: Mapped[int] = mapped_column(primary_key=True)
    uid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uid)
    case_id: Mapped[int] = mapped_column(ForeignKey("asb_applications.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    written_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    body_ct: Mapped[str | None] = mapped_column(Text)

    body = EncryptedField()

    @property
    def title(self) -> str:
        return LETTER_KINDS.get(self.kind, self.kind)

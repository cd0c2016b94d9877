"""ASB case review (formerly the Community Trigger): applications by victims of persistent anti-social behaviour."""
from app.core.models import Case
from panels.asb_case_review import forms, schema, services, settings, views
from panels.asb_case_review.measures import MEASURES
from panels.asb_case_review.models import AsbApplication
from panels.asb_case_review.workflow import ASB_CASE_REVIEW, BEFORE_DECISION
from panels.base import Panel

PANEL = Panel(
    key="asb_case_review",
    title="ASB case review",
    workflow=ASB_CASE_REVIEW,
    case_model=AsbApplication,
    blueprint=views.bp,
    details_schema=schema.DETAILS,
    intake=services.intake,
    check_details=services.check_details,
    describe=services.describe,
    step_forms=forms.STEP_FORMS,
    case_template="panels/asb_case_review/_case.html",
    research_states=BEFORE_DECISION,
    measures=MEASURES,
    new_referral=("New ASB case review application", "asb_case_review.new_application"),
    ready_state="threshold_met",
    meeting_step="review",
    # The statutory clock runs from the application: the oldest is reviewed first.
    agenda_order=lambda: [Case.referred_on],
    minutes_per_case=settings.minutes_per_case,
)

"""ASB case review (formerly the Community Trigger): applications by victims of persistent anti-social behaviour."""
from panels.asb_case_review import demo, forms, schema, services, settings, views
from panels.asb_case_review.measures import MEASURES
from panels.asb_case_review.models import AsbApplication
from panels.asb_case_review.workflow import ASB_CASE_REVIEW, BEFORE_DECISION
from panels.kit import MULTI_AGENCY, Case, Intake, Meetings, Pages, Panel, Retention

PANEL = Panel(
    key="asb_case_review",
    title="ASB case review",
    reference_prefix="ASB_CASE_REVIEW",
    workflow=ASB_CASE_REVIEW,
    case_model=AsbApplication,
    intake=Intake(details_schema=schema.DETAILS, check=services.check_details, make=services.intake,
                  describe=services.describe),
    pages=Pages(blueprint=views.bp, new_referral=("New ASB case review application", "asb_case_review.new_application"),
                case_template="panels/asb_case_review/_case.html", step_forms=forms.STEP_FORMS),
    access=MULTI_AGENCY,
    settings=settings.SETTINGS,
    retention=Retention(3, "Three years after the case closes, long enough to answer a complaint to the Local "
                           "Government and Social Care Ombudsman and to publish the yearly figures."),
    research_states=BEFORE_DECISION,
    meetings=Meetings(
        ready_state="threshold_met", meeting_step="review",
        # The statutory clock runs from the application: the oldest is reviewed first.
        agenda_order=lambda: [Case.referred_on], minutes_per_case=settings.minutes_per_case),
    measures=MEASURES,
    demo=demo.DEMO,
)

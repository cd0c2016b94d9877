"""ASB case review (formerly the Community Trigger): applications by victims of persistent anti-social behaviour."""
from panels.asb_case_review import demo, services, settings, views
from panels.asb_case_review.measures import MEASURES
from panels.asb_case_review.models import AsbApplication
from panels.asb_case_review.workflow import ASB_CASE_REVIEW, BEFORE_DECISION
from panels.kit import MULTI_AGENCY, Case, Meetings, Panel, Retention

PANEL = Panel(
    key="asb_case_review",
    title="ASB case review",
    reference_prefix="ASB_CASE_REVIEW",
    workflow=ASB_CASE_REVIEW,
    case_model=AsbApplication,
    intake=services.INTAKE,
    pages=views.PAGES,
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

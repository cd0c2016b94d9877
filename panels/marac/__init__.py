"""MARAC: Multi-Agency Risk Assessment Conference for domestic abuse victims at high risk."""
from panels.kit import MULTI_AGENCY, Case, Intake, Meetings, Pages, Panel, Retention
from panels.marac import demo, forms, schema, services, settings, views
from panels.marac.measures import MEASURES
from panels.marac.models import MaracReferral
from panels.marac.workflow import MARAC, ON_AGENDA

PANEL = Panel(
    key="marac",
    title="MARAC",
    reference_prefix="MARAC",
    workflow=MARAC,
    case_model=MaracReferral,
    intake=Intake(details_schema=schema.DETAILS, check=services.check_details, make=services.intake,
                  describe=services.describe),
    pages=Pages(blueprint=views.bp, new_referral=("New MARAC referral", "marac.new_referral"),
                case_template="panels/marac/_case.html", step_forms=forms.STEP_FORMS),
    access=MULTI_AGENCY,
    settings=settings.SETTINGS,
    retention=Retention(6, "Six years after the case closes, as the partnership's information-sharing agreement "
                           "sets for MARAC records (a local retention schedule may differ)."),
    research_states=ON_AGENDA,
    meetings=Meetings(
        ready_state="accepted", meeting_step="hear",
        # SafeLives: repeats first, then the highest risk (the DASH score), then the longest waiting.
        agenda_order=lambda: [Case.is_repeat.desc(), Case.priority.desc(), Case.referred_on],
        minutes_per_case=settings.minutes_per_case),
    measures=MEASURES,
    demo=demo.DEMO,
)

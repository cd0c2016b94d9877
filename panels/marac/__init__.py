"""MARAC: Multi-Agency Risk Assessment Conference for domestic abuse victims at high risk."""
from panels.kit import MULTI_AGENCY, Case, Meetings, Panel, Retention
from panels.marac import demo, services, settings, views
from panels.marac.measures import MEASURES
from panels.marac.models import MaracReferral
from panels.marac.workflow import MARAC, ON_AGENDA

PANEL = Panel(
    key="marac",
    title="MARAC",
    reference_prefix="MARAC",
    workflow=MARAC,
    case_model=MaracReferral,
    intake=services.INTAKE,
    pages=views.PAGES,
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

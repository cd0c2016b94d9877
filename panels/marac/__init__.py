"""MARAC: Multi-Agency Risk Assessment Conference for domestic abuse victims at high risk."""
from app.core.models import Case
from panels.base import Panel
from panels.marac import forms, schema, services, settings, views
from panels.marac.measures import MEASURES
from panels.marac.models import MaracReferral
from panels.marac.workflow import MARAC, ON_AGENDA

PANEL = Panel(
    key="marac",
    title="MARAC",
    workflow=MARAC,
    case_model=MaracReferral,
    blueprint=views.bp,
    details_schema=schema.DETAILS,
    intake=services.intake,
    check_details=services.check_details,
    describe=services.describe,
    step_forms=forms.STEP_FORMS,
    case_template="panels/marac/_case.html",
    research_states=ON_AGENDA,
    measures=MEASURES,
    new_referral=("New MARAC referral", "marac.new_referral"),
    ready_state="accepted",
    meeting_step="hear",
    # SafeLives: repeats first, then the highest risk (the DASH score), then the longest waiting.
    agenda_order=lambda: [Case.is_repeat.desc(), Case.priority.desc(), Case.referred_on],
    minutes_per_case=settings.minutes_per_case,
)

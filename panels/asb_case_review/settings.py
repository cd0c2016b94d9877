"""The ASB case review's local rules: the threshold and the timescales (reference/domain-workflows.md section 2)."""
from __future__ import annotations

from panels.kit import Setting, SettingGroup

SETTINGS = SettingGroup("asb_case_review", "ASB case review", (
    Setting("qualifying_complaints", "Qualifying complaints that meet the threshold", 3,
            "When at least this many qualifying complaints have been made, the bodies must decide the threshold is "
            "met (s104(4)); with fewer they may still decide it is, on persistence, harm or the response.",
            minimum=1, maximum=3, unit="complaints", config="ASB_QUALIFYING_COMPLAINTS", case_rule=True,
            bound="The Act lets an area set a lower number, never one above three (s104; Explanatory Notes para 231)."),
    Setting("acknowledge_working_days", "Acknowledge an application within", 5,
            "The application is acknowledged within this many working days of being received (local practice: 2 to "
            "5).", minimum=1, maximum=30, unit="working days", config="ASB_ACKNOWLEDGE_WORKING_DAYS", case_rule=True),
    Setting("decision_working_days", "Decide on the threshold within", 10,
            "The threshold is decided within this many working days of the application (a local timescale).",
            minimum=1, maximum=60, unit="working days", config="ASB_DECISION_WORKING_DAYS", case_rule=True),
    Setting("review_meeting_days", "Hold the review meeting within", 28,
            "The case review meeting is held within this many days of the threshold decision, or of an upheld "
            "escalation (local practice: 21 to 28).", minimum=1, maximum=90, unit="calendar days",
            config="ASB_REVIEW_MEETING_DAYS", case_rule=True),
    Setting("outcome_working_days", "Send the outcome within", 7,
            "The applicant is sent the outcome and any recommendations within this many working days of the "
            "meeting (local practice: 7).", minimum=1, maximum=30, unit="working days",
            config="ASB_OUTCOME_WORKING_DAYS", case_rule=True),
    Setting("escalation_days", "The applicant may escalate within", 21,
            "An applicant unhappy with the outcome may ask for it to be looked at by an independent reviewer within "
            "this many days of being told it (local practice: 21).", minimum=1, maximum=90, unit="calendar days",
            config="ASB_ESCALATION_DAYS", case_rule=True),
    Setting("minutes_per_case", "Minutes a case at the review meeting", 45,
            "About how long a review meeting spends on an application, for the agenda's timing (an estimate: set "
            "it locally).", minimum=5, maximum=240, unit="minutes", config="ASB_MINUTES_PER_CASE"),
))
qualifying_complaints = SETTINGS.reader("qualifying_complaints")
acknowledge_working_days = SETTINGS.reader("acknowledge_working_days")
decision_working_days = SETTINGS.reader("decision_working_days")
review_meeting_days = SETTINGS.reader("review_meeting_days")
outcome_working_days = SETTINGS.reader("outcome_working_days")
escalation_days = SETTINGS.reader("escalation_days")
minutes_per_case = SETTINGS.reader("minutes_per_case")

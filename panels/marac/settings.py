"""MARAC's local rules, with their defaults and sources (reference/domain-workflows.md section 1)."""
from __future__ import annotations

from panels.kit import Setting, SettingGroup

TRIAGE_MODELS = {"full_marac": "Every accepted case goes to a full MARAC",
                 "actions_only_allowed": "A coordinator may triage an accepted case as actions only, without a meeting"}

SETTINGS = SettingGroup("marac", "MARAC", (
    Setting("visible_high_risk_score", "DASH score for visible high risk", 14,
            "A referral on the visible-high-risk route needs at least this many 'yes' answers on the DASH checklist "
            "(SafeLives: 14). Professional judgement may raise a case to MARAC below it, never lower one above it.",
            minimum=1, maximum=24, unit="'yes' answers", config="MARAC_VISIBLE_HIGH_RISK_SCORE", case_rule=True),
    Setting("escalation_incidents", "Incidents for potential escalation", 3,
            "A referral on the potential-escalation route needs at least this many incidents in the last 12 months "
            "(SafeLives recommends 3; some areas use 5 police call-outs).", minimum=1, maximum=50, unit="incidents",
            config="MARAC_ESCALATION_INCIDENTS", case_rule=True),
    Setting("repeat_months", "Repeat window", 12,
            "A referral of a victim within this many calendar months of their last MARAC referral is a repeat "
            "(SafeLives: 12, counted from the last referral date); a closed case's repeat flag runs as long.",
            minimum=1, maximum=36, unit="calendar months", config="MARAC_REPEAT_MONTHS", case_rule=True),
    Setting("triage_model", "Triage model", "full_marac",
            "Whether every accepted case goes to a full MARAC, or a coordinator may triage one as actions only "
            "(the daily triage models some areas run beside the MARAC).", kind="choice", choices=TRIAGE_MODELS,
            config="MARAC_TRIAGE_MODEL"),
    Setting("adult_female_population", "Women aged 16 and over in the area", None,
            "The ONS mid-year estimate, for the measure of cases per 10,000 adult women (SafeLives expects about "
            "40). Leave it unset and the measure is not shown.", kind="optional_int", minimum=1,
            unit="women", config="MARAC_ADULT_FEMALE_POPULATION"),
    Setting("minutes_per_case", "Minutes a case at the meeting", 12,
            "About how long the meeting spends on a case, for the agenda's timing (SafeLives: 10 to 15 minutes).",
            minimum=1, maximum=120, unit="minutes", config="MARAC_MINUTES_PER_CASE"),
))
visible_high_risk_score = SETTINGS.reader("visible_high_risk_score")
escalation_incidents = SETTINGS.reader("escalation_incidents")
repeat_months = SETTINGS.reader("repeat_months")
triage_model = SETTINGS.reader("triage_model")
adult_female_population = SETTINGS.reader("adult_female_population")
minutes_per_case = SETTINGS.reader("minutes_per_case")


def actions_only_triage_allowed() -> bool:
    return triage_model() == "actions_only_allowed"

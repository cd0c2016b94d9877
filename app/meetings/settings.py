"""How meetings run here: local rules an administrator may change (app.core.settings)."""
from __future__ import annotations

from app.core.settings import Setting, SettingGroup

STATEMENT = ("Information shared at this meeting is confidential. It is shared only to keep people safe, and only with "
             "those who need to know it; it must not be passed on without the consent of the agency that shared it. "
             "Each agency remains responsible for its own actions.")

SETTINGS = SettingGroup("meetings", "Meetings", (
    Setting("minutes_per_carried_action", "Minutes for each action carried forward", 2,
            "How long a meeting gives each overdue action carried forward from an earlier meeting, when the agenda "
            "works out its timing.", minimum=0, maximum=30, unit="minutes",
            config="MEETING_MINUTES_PER_CARRIED_ACTION"),
    Setting("minutes_working_days", "Minutes are due within", 3,
            "The minutes are owed this many working days after the meeting; the coordinator's dashboard flags them "
            "late after that (a local rule: Derbyshire's MARAC protocol sets three).", minimum=1, maximum=20,
            unit="working days", config="MEETING_MINUTES_WORKING_DAYS"),
    Setting("confidentiality_statement", "Confidentiality statement", STATEMENT,
            "Read at the start of every meeting; the coordinator records that it was read and agreed, and it is "
            "printed on the agenda and the minutes.", kind="text", config="MEETING_CONFIDENTIALITY_STATEMENT"),
))
minutes_per_carried_action = SETTINGS.reader("minutes_per_carried_action")
minutes_working_days = SETTINGS.reader("minutes_working_days")
confidentiality_statement = SETTINGS.reader("confidentiality_statement")

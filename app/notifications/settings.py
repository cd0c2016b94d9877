"""When reminders go out: local rules an administrator may change (app.core.settings)."""
from __future__ import annotations

from app.core.settings import Setting, SettingGroup

SETTINGS = SettingGroup("reminders", "Reminders", (
    Setting("action_due_soon_days", "Remind of an action this many days before it is due", 3,
            "The owning agency's representatives on the panel are told of an open action this many calendar days "
            "before its due date (and the coordinators once it is overdue).", minimum=0, maximum=30,
            unit="calendar days", config="ACTION_DUE_SOON_DAYS"),
    Setting("deadline_near_working_days", "Remind of a statutory step this many working days before it is due", 2,
            "A panel's coordinators are told when a step with a statutory or local deadline (acknowledging an "
            "application, say) is due within this many working days.", minimum=0, maximum=20, unit="working days",
            config="DEADLINE_NEAR_WORKING_DAYS"),
))
action_due_soon_days = SETTINGS.reader("action_due_soon_days")
deadline_near_working_days = SETTINGS.reader("deadline_near_working_days")

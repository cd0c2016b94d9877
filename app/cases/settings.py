"""Local rules of every panel's cases (app.core.settings)."""
from __future__ import annotations

from app.core.settings import Setting, SettingGroup

SETTINGS = SettingGroup("cases", "Cases", (
    Setting("backdating_days", "How far back a step may be dated", None,
            "A coordinator may record a step on the day it happened, when it is typed in later (a paper referral, "
            "a decision taken by telephone). This limits how many days back that may be; leave it unset for no "
            "limit other than the referral date.", kind="optional_int", minimum=0, maximum=3650, unit="days",
            config="BACKDATING_DAYS"),
    Setting("referral_backdating_days", "How far back a referral may be dated without a reason", 30,
            "A referral dated further back than this needs the referrer to say why (a paper referral typed in "
            "late, say); the panel's coordinator sees the reason on the case.", kind="int", minimum=0, maximum=3650,
            unit="days", config="REFERRAL_BACKDATING_DAYS"),
    Setting("break_glass_hours", "How long emergency access to a case lasts", 4,
            "A coordinator may open a case outside their normal access in an emergency, giving a reason; it lasts "
            "this many hours and another coordinator of the case's panel must sign it off.", kind="int", minimum=1,
            maximum=24, unit="hours", config="BREAK_GLASS_HOURS"),
))
backdating_days = SETTINGS.reader("backdating_days")
referral_backdating_days = SETTINGS.reader("referral_backdating_days")
break_glass_hours = SETTINGS.reader("break_glass_hours")

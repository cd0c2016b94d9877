"""API tokens' local rules: how long a new token works and how often it may be used (app.core.settings)."""
from __future__ import annotations

from app.core.settings import Setting, SettingGroup

SETTINGS = SettingGroup("api_tokens", "API tokens", (
    Setting("lifetime_days", "A new API token works for", 90,
            "How many days a new API token works for, unless whoever makes it gives fewer (or more, up to the "
            "maximum). A token that has expired is refused; make a new one.", minimum=1, maximum=366,
            unit="days", config="API_TOKEN_DAYS"),
    Setting("requests_per_minute", "Requests per minute for one API token", 60,
            "How many requests one API token may make in a minute, counted across every server process. More are "
            "answered 429 with Retry-After.", minimum=5, maximum=10_000, unit="requests",
            config="API_TOKEN_REQUESTS_PER_MINUTE"),
))
lifetime_days = SETTINGS.reader("lifetime_days")
requests_per_minute = SETTINGS.reader("requests_per_minute")

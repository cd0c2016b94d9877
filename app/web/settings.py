"""The service's own name and contact details: facts an administrator keeps up to date (app.core.settings)."""
from __future__ import annotations

from app.core.settings import Setting, SettingGroup

SETTINGS = SettingGroup("service", "The service", (
    Setting("name", "Name of the service", "Panel case coordination",
            "Shown in the header and title of every page and in the accessibility statement.", kind="text"),
    Setting("owner", "Who runs the service", "the community safety partnership",
            "Named in the accessibility statement as the body responsible for the service, as in \"which Northshire "
            "Community Safety Partnership runs\".", kind="text", config="SERVICE_OWNER"),
    Setting("accessibility_contact", "Accessibility contact email", "accessibility@example.org",
            "Where people report an accessibility problem or ask for information in another format.", kind="email",
            config="ACCESSIBILITY_CONTACT_EMAIL"),
))
name = SETTINGS.reader("name")
owner = SETTINGS.reader("owner")
accessibility_contact = SETTINGS.reader("accessibility_contact")

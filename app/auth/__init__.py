"""Sign-in with two factors, server-side sessions, throttling, and the person's own account pages."""
from app.auth.views import bp

__all__ = ["bp"]

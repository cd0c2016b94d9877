"""The one exception for a stale write: shown once as a 409 page and once as the API's "conflict" body."""
from __future__ import annotations


class Conflict(Exception):
    """A change made to an older copy than the one now saved: nothing of it was written (HTTP 409).

    ``title`` heads the page ("Someone else changed this case"); ``message`` says what to do.
    """

    status = 409

    def __init__(self, title: str = "Someone else changed this",
                 message: str = "Someone else saved a change to this first. Reload the page to see it, then try "
                                "again."):
        super().__init__(message)
        self.title, self.message = title, message

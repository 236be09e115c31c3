"""Why a link cannot be used, as the page the subscriber sees::

    ChargeOpsError
     └── LinkRefusedError         the link is damaged, expired, used or replaced (HTTP 400/403/404/409/410)
    AnswerConflictError           the Subscription changed between our read and our patch: read again

``LinkRefusedError`` carries the HTTP status and a title besides ``reason`` and the message, so one
place in the app turns any of them into a page. Its messages speak to the subscriber, never name the
token, and say what to do next.
"""

from chargeops.errors import ChargeOpsError


class LinkRefusedError(ChargeOpsError):
    """The link cannot be used; the page says why and what to do."""

    def __init__(self, reason: str, message: str, *, status: int, title: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.title = title

    @property
    def message(self) -> str:
        """The sentence shown under the title."""
        return str(self)


class AnswerConflictError(Exception):
    """The Subscription's resourceVersion moved since it was read; read it again and re-check."""

"""The refusals of the decision service (approvals/decisions/), each with a message fit to show."""

from datetime import datetime

from django.utils import timezone

from approvals.plumbing.pg_timestamps import stored_text


def moment(value: datetime) -> str:
    """A time as the refusals print it; one PostgreSQL holds and Python cannot, as PostgreSQL stores it."""
    return stored_text(value) or timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")


class DecisionError(Exception):
    """A refusal with a message fit to show the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(DecisionError):
    pass


class InvalidDecision(DecisionError):
    pass


class AlreadyDecided(DecisionError):
    def __init__(self, *, status: str, decided_by: str | None, decided_at: datetime | None):
        self.status = status
        self.decided_by = decided_by
        self.decided_at = decided_at
        who = decided_by or "someone"
        when = moment(decided_at) if decided_at else "an unknown time"
        super().__init__(f"This item was already {status} by {who} at {when}. Nothing was changed.")


class NotReopenable(DecisionError):
    pass


class NotRequeueable(DecisionError):
    pass


class NotUndoable(DecisionError):
    pass

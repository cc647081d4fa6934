"""The filter types of the reviewer pages: what the forms build and the selectors read."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from approvals.files.families import MediaFamily

__all__ = ["HistoryFilters", "MediaFamily", "QueueFilters", "uuid_or_none"]


@dataclass(frozen=True)
class QueueFilters:
    project_id: uuid.UUID | None = None
    kind: str | None = None
    media: str | None = None
    waited: timedelta | None = None
    search: str = ""
    # Only items waiting longer than their project's review target (review_targets).
    overdue: bool = False


@dataclass(frozen=True)
class HistoryFilters:
    reviewer: str = ""
    decision: str | None = None
    project_id: uuid.UUID | None = None
    decided_from: date | None = None
    decided_to: date | None = None
    reason: str | None = None


def uuid_or_none(value: object) -> uuid.UUID | None:
    """The UUID a filter value or a JSON field names, or None for anything else (empty, malformed, a number)."""
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None

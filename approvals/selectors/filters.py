"""The filter types of the reviewer pages: what the forms build and the selectors read."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from approvals.files.families import MediaFamily

__all__ = ["HistoryFilters", "MediaFamily", "QueueFilters"]


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

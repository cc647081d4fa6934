"""The filter types of the reviewer pages: what the forms build and the selectors read."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import TextChoices


class MediaFamily(TextChoices):
    """What a reviewer filters by. Audio counts as "other": the pipeline makes
    posts, specs, images, video and PDFs, and a rare audio file does not earn a
    filter of its own."""

    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    TEXT = "text", "Text"
    JSON = "json", "JSON"
    PDF = "pdf", "PDF"
    OTHER = "other", "Other"


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

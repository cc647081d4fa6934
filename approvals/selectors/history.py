"""Decided approvals, newest first, for the History page.

Keyset-paginated on the indexed (decided_at, id) pair, never OFFSET.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import F, Q
from django.utils import timezone

from approvals.models import Approval, ApprovalOutcome, ApprovalStatus
from approvals.selectors.edits import attach_edit_diffs
from approvals.selectors.filters import HistoryFilters
from approvals.selectors.keyset import MAX_PAGE_SIZE, PAGE_SIZE, Cursor


@dataclass(frozen=True)
class HistoryPage:
    rows: list[dict]
    next_cursor: Cursor | None


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def decided_history(*, filters: HistoryFilters, after: Cursor | None = None, limit: int = PAGE_SIZE) -> HistoryPage:
    """Decided approvals newest first, one keyset page (index approvals_decided_history_idx)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    queryset = Approval.objects.exclude(status=ApprovalStatus.PENDING)
    if filters.reviewer:
        queryset = queryset.filter(decided_by=filters.reviewer)
    if filters.decision in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        queryset = queryset.filter(status=filters.decision)
    elif filters.decision in ApprovalOutcome.values:
        queryset = queryset.filter(outcome=filters.decision)
    if filters.reason:
        queryset = queryset.filter(reasons__contains=[filters.reason])
    if filters.project_id:
        queryset = queryset.filter(artifact__project_id=filters.project_id)
    # Day bounds as timestamps (not decided_at::date) so the index range applies.
    if filters.decided_from:
        queryset = queryset.filter(decided_at__gte=_start_of_day(filters.decided_from))
    if filters.decided_to and filters.decided_to < date.max:  # up to the last day there is: no bound at all
        queryset = queryset.filter(decided_at__lt=_start_of_day(filters.decided_to + timedelta(days=1)))
    if after is not None:
        queryset = queryset.filter(decided_at__lte=after.at).filter(Q(decided_at__lt=after.at) | Q(id__lt=after.id))
    values = list(
        queryset.order_by("-decided_at", "-id").values(
            "id",
            "status",
            "outcome",
            "reasons",
            "notes",
            "decided_by",
            "decided_at",
            "created_at",
            "artifact_id",
            name=F("artifact__name"),
            kind=F("artifact__kind"),
            version=F("artifact__version"),
            project_id=F("artifact__project_id"),
            project_name=F("artifact__project__name"),
        )[: limit + 1]
    )
    page, more = values[:limit], len(values) > limit
    next_cursor = Cursor(at=page[-1]["decided_at"], id=page[-1]["id"]) if more else None
    return HistoryPage(rows=attach_edit_diffs(page), next_cursor=next_cursor)

"""What the reviewer pages read besides the queue (review_queue.py): the history, one review, the menus.

Lists are keyset-paginated on an indexed (timestamp, id) pair, never OFFSET, and
every per-row figure is a join or a subquery, so a page costs the same number of
queries however many rows it shows.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import F, Q
from django.http import Http404
from django.utils import timezone

from approvals.diffs import LineDiff, line_diff
from approvals.keyset import MAX_PAGE_SIZE, PAGE_SIZE, Cursor
from approvals.models import Approval, ApprovalStatus, Artifact, Job, Project, Run
from approvals.previews import ArtifactPreview, preview_for
from approvals.review_queue import QueueFilters, queue_position

# Earlier versions shown on a review page (the chain is walked in SQL, bounded).
VERSION_CHAIN_LIMIT = 20


def project_choices() -> list[tuple[uuid.UUID, str]]:
    """(id, name) of every project, for the filter menus."""
    return list(Project.objects.order_by("name", "id").values_list("id", "name"))


# --- History ------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryFilters:
    reviewer: str = ""
    decision: str | None = None
    project_id: uuid.UUID | None = None
    decided_from: date | None = None
    decided_to: date | None = None


@dataclass(frozen=True)
class HistoryPage:
    rows: list[dict]
    next_cursor: Cursor | None


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def history(*, filters: HistoryFilters, after: Cursor | None = None, limit: int = PAGE_SIZE) -> HistoryPage:
    """Decided approvals newest first, one keyset page (index approvals_decided_history_idx)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    queryset = Approval.objects.exclude(status=ApprovalStatus.PENDING)
    if filters.reviewer:
        queryset = queryset.filter(decided_by=filters.reviewer)
    if filters.decision:
        queryset = queryset.filter(status=filters.decision)
    if filters.project_id:
        queryset = queryset.filter(artifact__project_id=filters.project_id)
    # Day bounds as timestamps (not decided_at::date) so the index range applies.
    if filters.decided_from:
        queryset = queryset.filter(decided_at__gte=_start_of_day(filters.decided_from))
    if filters.decided_to:
        queryset = queryset.filter(decided_at__lt=_start_of_day(filters.decided_to + timedelta(days=1)))
    if after is not None:
        queryset = queryset.filter(decided_at__lte=after.at).filter(Q(decided_at__lt=after.at) | Q(id__lt=after.id))
    values = list(
        queryset.order_by("-decided_at", "-id").values(
            "id",
            "status",
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
    return HistoryPage(rows=page, next_cursor=next_cursor)


# --- One review ---------------------------------------------------------------


@dataclass(frozen=True)
class RunTotals:
    runs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0
    cost_usd: Decimal = Decimal(0)

    @classmethod
    def of(cls, runs: list[Run]) -> "RunTotals":
        return cls(
            runs=len(runs),
            prompt_tokens=sum(run.prompt_tokens for run in runs),
            completion_tokens=sum(run.completion_tokens for run in runs),
            total_tokens=sum(run.total_tokens or 0 for run in runs),
            duration_ms=sum(run.duration_ms or 0 for run in runs),
            cost_usd=sum((run.cost_usd or Decimal(0) for run in runs), Decimal(0)),
        )


@dataclass(frozen=True)
class JobSummary:
    job: Job
    runs: list[Run]
    totals: RunTotals


@dataclass(frozen=True)
class VersionEntry:
    """An earlier version, its diff against the version before it, and the decisions made on it."""

    artifact: Artifact
    diff: LineDiff | None
    decisions: list[Approval]


@dataclass(frozen=True)
class ReviewContext:
    approval: Approval
    artifact: Artifact
    preview: ArtifactPreview
    jobs: list[JobSummary]
    totals: RunTotals
    changes: LineDiff | None  # this version against the one it revises
    earlier_decisions: list[Approval]  # on this same version (it was reopened)
    versions: list[VersionEntry] = field(default_factory=list)
    versions_truncated: bool = False
    next_id: uuid.UUID | None = None
    previous_id: uuid.UUID | None = None
    pending_count: int = 0


_VERSION_CHAIN_SQL = f"""
with recursive chain (id, depth) as (
    select %s::uuid, 1
  union all
    select a.previous_version_id, chain.depth + 1
      from chain join {Artifact._meta.db_table} a on a.id = chain.id
     where a.previous_version_id is not null and chain.depth < %s
)
select a.*, chain.depth from chain join {Artifact._meta.db_table} a on a.id = chain.id order by chain.depth
"""


def _earlier_versions(artifact: Artifact) -> list[Artifact]:
    """The versions this one revises, newest first: one recursive query, bounded (and safe from cycles)."""
    if artifact.previous_version_id is None:
        return []
    # One more than shown, so the last one shown can be diffed against its predecessor.
    chain = Artifact.objects.raw(_VERSION_CHAIN_SQL, [artifact.previous_version_id, VERSION_CHAIN_LIMIT + 1])
    seen = {artifact.id}
    versions = []
    for version in chain:
        if version.id in seen:  # the pipeline wrote a cycle: stop where it closes
            break
        seen.add(version.id)
        versions.append(version)
    return versions


# The review page's own lists, as raw SQL: Django compiling the equivalent
# QuerySets on every page view took longer than running them.
_JOBS_OF_ARTIFACT_SQL = "select * from jobs where output_artifact_id = %s order by created_at, id"
_RUNS_OF_ARTIFACT_SQL = """
select r.* from runs r join jobs j on j.id = r.job_id
 where j.output_artifact_id = %s
 order by r.created_at, r.id
"""
_DECISIONS_ON_SQL = """
select * from approvals
 where artifact_id = any(%s::uuid[]) and status <> 'pending' and id <> %s
 order by decided_at desc
"""


def review_context(*, approval_id: uuid.UUID, filters: QueueFilters | None = None) -> ReviewContext:
    """Everything the review page shows, in a fixed number of queries; Http404 if there is no such approval."""
    filters = filters or QueueFilters()
    approval = Approval.objects.select_related("artifact", "artifact__project").filter(id=approval_id).first()
    if approval is None:
        raise Http404("No such approval.")
    position = queue_position(approval_id=approval.id, at=approval.created_at, filters=filters)
    artifact = approval.artifact

    runs_by_job = defaultdict(list)
    for run in Run.objects.raw(_RUNS_OF_ARTIFACT_SQL, [artifact.id]):
        runs_by_job[run.job_id].append(run)
    job_summaries = [
        JobSummary(job=job, runs=runs_by_job[job.id], totals=RunTotals.of(runs_by_job[job.id]))
        for job in Job.objects.raw(_JOBS_OF_ARTIFACT_SQL, [artifact.id])
    ]

    chain = _earlier_versions(artifact)
    shown = chain[:VERSION_CHAIN_LIMIT]
    decisions_by_artifact = defaultdict(list)
    for decision in Approval.objects.raw(
        _DECISIONS_ON_SQL, [[artifact.id, *(version.id for version in shown)], approval.id]
    ):
        decisions_by_artifact[decision.artifact_id].append(decision)

    versions = [
        VersionEntry(
            artifact=version,
            diff=line_diff(old=chain[index + 1], new=version) if index + 1 < len(chain) else None,
            decisions=decisions_by_artifact[version.id],
        )
        for index, version in enumerate(shown)
    ]
    return ReviewContext(
        approval=approval,
        artifact=artifact,
        preview=preview_for(artifact),
        jobs=job_summaries,
        totals=RunTotals.of([run for summary in job_summaries for run in summary.runs]),
        changes=line_diff(old=chain[0], new=artifact) if chain else None,
        earlier_decisions=decisions_by_artifact[artifact.id],
        versions=versions,
        versions_truncated=len(chain) > VERSION_CHAIN_LIMIT,
        next_id=position.next_id,
        previous_id=position.previous_id,
        pending_count=position.pending_count,
    )

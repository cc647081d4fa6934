"""What one review page shows: the artifact, its preview, jobs and runs, earlier versions and decisions.

A fixed number of queries whatever the artifact holds: every list is one
statement, and the version chain is walked in SQL, bounded.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from approvals.files.previews import ArtifactPreview, preview_for
from approvals.models import Approval, Artifact, Job, Run
from approvals.selectors.diffs import LineDiff, line_diff
from approvals.selectors.filters import QueueFilters
from approvals.selectors.queue import queue_position
from approvals.selectors.run_totals import RunTotals

# Earlier versions shown on a review page (the chain is walked in SQL, bounded).
VERSION_CHAIN_LIMIT = 20


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


def review_context(*, approval_id: uuid.UUID, filters: QueueFilters | None = None) -> ReviewContext | None:
    """Everything the review page shows, in a fixed number of queries; None if there is no such approval."""
    filters = filters or QueueFilters()
    approval = Approval.objects.select_related("artifact", "artifact__project").filter(id=approval_id).first()
    if approval is None:
        return None
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

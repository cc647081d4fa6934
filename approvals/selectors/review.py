"""What one review page shows: the artifact, its preview, jobs and runs, earlier versions and decisions.

A fixed number of queries whatever the artifact holds: every list is one
statement, and the version chain is walked in SQL, bounded.
"""

import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from approvals.files.previews import ArtifactPreview, preview_for
from approvals.json_values import json_text
from approvals.models import Approval, Artifact, ArtifactKind, Job, Run
from approvals.selectors.diffs import LineDiff, comparable_text, line_diff
from approvals.selectors.filters import QueueFilters
from approvals.selectors.queue import queue_position
from approvals.selectors.run_totals import RunTotals

# Earlier versions shown on a review page (the chain is walked in SQL, bounded).
VERSION_CHAIN_LIMIT = 20
# Earlier versions are diffed newest first until the page has spent this long
# (difflib's cost depends on what the lines hold, not only on their number);
# the rest are listed without a diff, and say so. The current change is always diffed.
PAGE_DIFF_SECONDS = 0.12


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
    diff_skipped: bool = False  # not compared: the page's time for diffs was spent


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
    # The JSON body pretty-printed as the preview and the editor show it: its length, when Python could
    # indent it (None for text and files). Pretty-printing is pure Python: done once per page, here.
    json_characters: int | None = None

    @property
    def waiting_since(self) -> datetime:
        """When review of this artifact was first asked for (a reopened item has waited since then)."""
        return min([self.approval.created_at, *(decision.created_at for decision in self.earlier_decisions)])


# Raw SQL because the ORM has no recursive CTE: the alternative is a query per version.
# Bodies come only for the newest versions whose stored sizes add up to
# DIFF_BODIES_BYTES (always the newest one): twenty versions of a large JSON
# are megabytes to fetch and decode. The others come without theirs
# (body_loaded false), in the same statement.
DIFF_BODIES_BYTES = 512 * 1024
_CHAIN_COLUMNS = [
    field.column for field in Artifact._meta.concrete_fields if field.name not in {"body_text", "body_json"}
]
_VERSION_CHAIN_SQL = f"""
with recursive chain (id, depth) as (
    select %s::uuid, 1
  union all
    select a.previous_version_id, chain.depth + 1
      from chain join artifacts a on a.id = chain.id
     where a.previous_version_id is not null and chain.depth < %s
),
sized as (
    select a.*, chain.depth,
           sum(coalesce(pg_column_size(a.body_text), 0) + coalesce(pg_column_size(a.body_json), 0))
               over (order by chain.depth) as bytes_so_far
      from chain join artifacts a on a.id = chain.id
)
select {", ".join(_CHAIN_COLUMNS)}, depth, (depth = 1 or bytes_so_far <= %s) as body_loaded,
       case when depth = 1 or bytes_so_far <= %s then body_text end as body_text,
       case when depth = 1 or bytes_so_far <= %s then body_json end as body_json
  from sized order by depth
"""  # noqa: S608 (the column names come from the model, not from input)


def _earlier_versions(artifact: Artifact) -> list[Artifact]:
    """The versions this one revises, newest first: one recursive query, bounded (and safe from cycles)."""
    if artifact.previous_version_id is None:
        return []
    # One more than shown, so the last one shown can be diffed against its predecessor.
    limit = DIFF_BODIES_BYTES
    chain = Artifact.objects.raw(
        _VERSION_CHAIN_SQL, [artifact.previous_version_id, VERSION_CHAIN_LIMIT + 1, limit, limit, limit]
    )
    seen = {artifact.id}
    versions = []
    for version in chain:
        if version.id in seen:  # the pipeline wrote a cycle: stop where it closes
            break
        seen.add(version.id)
        versions.append(version)
    return versions


# The review page's own lists, as raw SQL: Django compiling the equivalent
# QuerySets (the same statements, the same plans) cost more than running them.
# Measured 29 Nov 2026 on the 2-core box, load 8, per call: jobs 0.5-1.1 ms raw
# vs 1.6-1.7 ms as a QuerySet, runs 1.8 vs 3.7-4.2 ms, decisions 1.0-2.1 vs
# 2.4-5.8 ms, against about 9 ms for the whole review_context().
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


def review_context(
    *, approval_id: uuid.UUID, filters: QueueFilters | None = None, viewer: str | None = None
) -> ReviewContext | None:
    """Everything the review page shows, in a fixed number of queries; None if there is no such approval.

    With a viewer, next and previous pass over items others are reviewing now.
    """
    started = time.perf_counter()
    filters = filters or QueueFilters()
    approval = Approval.objects.select_related("artifact", "artifact__project").filter(id=approval_id).first()
    if approval is None:
        return None
    position = queue_position(approval_id=approval.id, at=approval.created_at, filters=filters, viewer=viewer)
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

    formatted = json_text(artifact.body_json) if artifact.kind == ArtifactKind.JSON else None
    texts = {artifact.id: formatted[0] if formatted else comparable_text(artifact)}
    changes = line_diff(old=chain[0], new=artifact, texts=texts) if chain else None
    versions = _version_entries(chain, shown, decisions_by_artifact, texts, deadline=started + PAGE_DIFF_SECONDS)
    return ReviewContext(
        approval=approval,
        artifact=artifact,
        preview=preview_for(artifact, formatted=formatted),
        jobs=job_summaries,
        totals=RunTotals.of([run for summary in job_summaries for run in summary.runs]),
        changes=changes,
        earlier_decisions=decisions_by_artifact[artifact.id],
        versions=versions,
        versions_truncated=len(chain) > VERSION_CHAIN_LIMIT,
        next_id=position.next_id,
        previous_id=position.previous_id,
        pending_count=position.pending_count,
        json_characters=len(formatted[0]) if formatted and formatted[1] else None,
    )


def _with_body(version: Artifact) -> bool:
    # The current artifact always has its body; earlier versions say whether theirs was read.
    return getattr(version, "body_loaded", True)


def _version_entries(
    chain: list[Artifact], shown: list[Artifact], decisions_by_artifact, texts: dict, *, deadline: float
) -> list[VersionEntry]:
    """Each shown version with its diff against the one before it, while time and the loaded bodies last."""
    entries = []
    for index, version in enumerate(shown):
        previous = chain[index + 1] if index + 1 < len(chain) else None
        diffed = (
            previous is not None and _with_body(version) and _with_body(previous) and time.perf_counter() < deadline
        )
        entries.append(
            VersionEntry(
                artifact=version,
                diff=line_diff(old=previous, new=version, texts=texts) if diffed else None,
                decisions=decisions_by_artifact[version.id],
                diff_skipped=previous is not None and not diffed,
            )
        )
    return entries

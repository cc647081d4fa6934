"""What each change of review state wrote, and how it is announced: one notify payload, one log line."""

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from approvals.models import ApprovalStatus

NOTIFY_CHANNEL = "flow_approvals"
logger = logging.getLogger("approvals.decisions")


@dataclass(frozen=True)
class DecisionResult:
    """What a decision wrote. `status` is the approval row's (approved or rejected); `outcome` is which of
    the four decisions it was. For an edit, the approval and artifact are the new version's."""

    approval_id: uuid.UUID
    artifact_id: uuid.UUID
    artifact_name: str
    artifact_version: int
    status: str
    outcome: str
    decided_by: str
    decided_at: datetime
    jobs_moved: int
    reasons: tuple[str, ...] = ()
    revision_job_id: uuid.UUID | None = None
    replaced_approval_id: uuid.UUID | None = None
    draft_artifact_id: uuid.UUID | None = None


@dataclass(frozen=True)
class ReopenResult:
    old_approval_id: uuid.UUID
    new_approval_id: uuid.UUID
    artifact_id: uuid.UUID
    jobs_moved: int
    reopened_by: str
    undone: bool = False
    # Undoing an approved edit deletes the reviewer's version: the artifact an agent may have heard approved.
    withdrawn_artifact_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RequeueResult:
    job_id: uuid.UUID
    previous_status: str


def notify_payload(result: DecisionResult | ReopenResult) -> dict:
    """What a LISTENing agent receives on `flow_approvals` (docs/pipeline.md, "The notify payload")."""
    if isinstance(result, ReopenResult):
        payload = {
            "approval_id": result.new_approval_id,
            "artifact_id": result.artifact_id,
            "status": ApprovalStatus.PENDING,
            "reopened_from": result.old_approval_id,
            ("undone_by" if result.undone else "reopened_by"): result.reopened_by,
        }
        if result.withdrawn_artifact_id:
            payload["withdrawn_artifact_id"] = result.withdrawn_artifact_id
        return payload
    payload = {
        "approval_id": result.approval_id,
        "artifact_id": result.artifact_id,
        "status": result.status,
        "decision": result.outcome,
        "decided_by": result.decided_by,
        "reasons": list(result.reasons),
    }
    if result.revision_job_id:
        payload["revision_job_id"] = result.revision_job_id
    if result.replaced_approval_id:
        payload |= {"edit_of": result.draft_artifact_id, "replaced_approval_id": result.replaced_approval_id}
    return payload


def announce(cursor, result: DecisionResult | ReopenResult) -> None:
    """One notify (delivered at commit) and one log line for every change of review state."""
    cursor.execute("select pg_notify(%s, %s)", [NOTIFY_CHANNEL, json.dumps(notify_payload(result), default=str)])
    if isinstance(result, ReopenResult):
        how = "undone" if result.undone else "reopened"
        logger.info(
            "approval %s %s by %s as %s", result.old_approval_id, how, result.reopened_by, result.new_approval_id
        )
    else:
        logger.info(
            "approval %s %s by %s; %d job(s) moved on",
            result.replaced_approval_id or result.approval_id,
            result.outcome,
            result.decided_by,
            result.jobs_moved,
        )

"""The four decisions on a pending approval: approve, reject, request changes, approve with edits.

Each is three steps in one transaction: close the pending approval (the
conditional UPDATE that settles who wins a race, the "already decided" answer,
the claim's release), the outcome's own step, and the shared ending.
"""

import functools
import json
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from approvals.decisions.errors import AlreadyDecided, DecisionError, InvalidDecision, NotFound
from approvals.decisions.inputs import approval_uuid, clean_notes, clean_reasons, clean_rejection
from approvals.decisions.results import DecisionResult, announce
from approvals.models import Approval, ApprovalOutcome, ApprovalStatus, Artifact, ArtifactKind, JobStatus
from approvals.revisions import EDIT_MAX_CHARACTERS, EditRefused, changes_nothing, is_editable, parse_edit


def record_decision(
    *,
    approval_id: uuid.UUID | str,
    decision: str,
    notes: str | None,
    reasons: Iterable[str],
    edited_body: str | None,
    decided_by: str,
) -> DecisionResult:
    """The review form's four buttons, each to its service."""
    if decision == ApprovalOutcome.CHANGES_REQUESTED:
        return request_changes(approval_id=approval_id, notes=notes, reasons=reasons, decided_by=decided_by)
    if decision == ApprovalOutcome.APPROVED_WITH_EDITS:
        return approve_with_edits(approval_id=approval_id, body=edited_body, notes=notes, decided_by=decided_by)
    return decide(approval_id=approval_id, decision=decision, notes=notes, reasons=reasons, decided_by=decided_by)


def decide(
    *,
    approval_id: uuid.UUID | str,
    decision: str,
    notes: str | None,
    decided_by: str,
    reasons: Iterable[str] = (),
) -> DecisionResult:
    """Approve or reject a pending approval and move its jobs on, all or nothing."""
    approval_id = approval_uuid(approval_id)
    if decision not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        raise InvalidDecision(f"Unknown decision {decision!r}: use approved or rejected.")
    if decision == ApprovalStatus.REJECTED:
        notes, reasons = clean_rejection(notes, reasons)
    else:
        notes, reasons = clean_notes(notes, required=False), clean_reasons(reasons)
    step = _approve if decision == ApprovalStatus.APPROVED else _reject
    return _decide_pending(
        approval_id=approval_id, outcome=decision, notes=notes, reasons=reasons, by=decided_by, step=step
    )


def request_changes(
    *, approval_id: uuid.UUID | str, notes: str | None, reasons: Iterable[str] = (), decided_by: str
) -> DecisionResult:
    """Reject, and queue a revision job for the agent (same kind as the draft's job), all or nothing."""
    approval_id = approval_uuid(approval_id)
    notes, reasons = clean_rejection(notes, reasons, verb="request changes")
    return _decide_pending(
        approval_id=approval_id,
        outcome=ApprovalOutcome.CHANGES_REQUESTED,
        notes=notes,
        reasons=reasons,
        by=decided_by,
        step=_queue_revision,
    )


def approve_with_edits(
    *, approval_id: uuid.UUID | str, body: str | None, notes: str | None, decided_by: str
) -> DecisionResult:
    """Save the reviewer's edit as a new version and approve it; close the draft's approval; hand the edit on."""
    approval_id = approval_uuid(approval_id)
    notes = clean_notes(notes, required=False)
    draft = Artifact.objects.filter(approvals__id=approval_id).first()
    if draft is None:
        raise NotFound("This approval does not exist (it may have been deleted).")
    if draft.kind != ArtifactKind.FILE and not is_editable(draft):
        raise InvalidDecision(
            f"This draft is longer than the editor holds ({EDIT_MAX_CHARACTERS:,} characters): "
            "approve it as it is, reject it or request changes."
        )
    try:
        edited = parse_edit(kind=draft.kind, body=body)
    except EditRefused as refusal:
        raise InvalidDecision(str(refusal)) from refusal
    if changes_nothing(draft, edited):
        raise InvalidDecision("The edit changes nothing: use Approve.")
    try:
        return _decide_pending(
            approval_id=approval_id,
            outcome=ApprovalOutcome.REPLACED_BY_EDIT,
            notes=f"Replaced by {decided_by}'s edit, approved as a new version.",
            reasons=[],
            by=decided_by,
            step=functools.partial(_approve_edit, draft=draft, edited=edited, notes=notes),
        )
    except IntegrityError as error:
        # Another writer took this version number of the artifact in the meantime.
        raise DecisionError("A newer version of this artifact appeared meanwhile: reload and edit that one.") from error


def _decide_pending(
    *,
    approval_id: uuid.UUID,
    outcome: str,
    notes: str,
    reasons: list[str],
    by: str,
    step: Callable[..., DecisionResult],
) -> DecisionResult:
    """Every decision's transaction: close the pending approval, the outcome's `step`, the shared ending."""
    with transaction.atomic(), connection.cursor() as cursor:
        closed = _close_pending(cursor, approval_id=approval_id, outcome=outcome, notes=notes, reasons=reasons, by=by)
        result = step(cursor, closed)
        announce(cursor, result)
    return result


# --- Step one of every decision: close the pending approval ---------------------------------------------


@dataclass(frozen=True)
class _Closed:
    """The approval a decision just closed, with what the outcome's step needs of it."""

    approval_id: uuid.UUID
    artifact_id: uuid.UUID
    artifact_name: str
    artifact_version: int
    outcome: str
    reasons: list[str]
    notes: str
    by: str
    decided_at: datetime


# Conditional on still pending: of two racing decisions, the second waits for
# the first's row lock, then matches no row. The artifact's name and version
# come back for the confirmation the reviewer sees.
_CLOSE_PENDING_SQL = """
update approvals
   set status = %(status)s, outcome = %(outcome)s, notes = %(notes)s, reasons = %(reasons)s,
       decided_by = %(by)s, decided_at = now()
  from artifacts
 where approvals.id = %(approval_id)s and approvals.status = 'pending' and artifacts.id = approvals.artifact_id
returning approvals.artifact_id, approvals.decided_at, artifacts.name, artifacts.version
"""

# Which status an outcome leaves the row in: only approved rows are handed on.
_STATUS_OF_OUTCOME = {
    ApprovalOutcome.APPROVED: ApprovalStatus.APPROVED,
    ApprovalOutcome.REJECTED: ApprovalStatus.REJECTED,
    ApprovalOutcome.CHANGES_REQUESTED: ApprovalStatus.REJECTED,
    ApprovalOutcome.REPLACED_BY_EDIT: ApprovalStatus.REJECTED,
}


def _close_pending(cursor, *, approval_id: uuid.UUID, outcome: str, notes: str, reasons: list[str], by: str) -> _Closed:
    """Decide the pending approval, or raise AlreadyDecided (who and when) / NotFound; end its claim."""
    cursor.execute(
        _CLOSE_PENDING_SQL,
        {
            "status": _STATUS_OF_OUTCOME[outcome],
            "outcome": outcome,
            "notes": notes or None,
            "reasons": reasons,
            "by": by,
            "approval_id": approval_id,
        },
    )
    row = cursor.fetchone()
    if row is None:
        current = Approval.objects.filter(id=approval_id).values("status", "decided_by", "decided_at").first()
        if current is None:
            raise NotFound("This approval does not exist (it may have been deleted).")
        raise AlreadyDecided(**current)
    artifact_id, decided_at, artifact_name, artifact_version = row
    # The claim on it ends with the decision, whoever held it: claims never block.
    cursor.execute("delete from review_claims where approval_id = %s", [approval_id])
    return _Closed(
        approval_id=approval_id,
        artifact_id=artifact_id,
        artifact_name=artifact_name,
        artifact_version=artifact_version,
        outcome=outcome,
        reasons=reasons,
        notes=notes,
        by=by,
        decided_at=decided_at,
    )


def _result(closed: _Closed, *, jobs_moved: int, **fields) -> DecisionResult:
    """The result of the closed approval's decision; `fields` override it (an edit's new version)."""
    values = {
        "approval_id": closed.approval_id,
        "artifact_id": closed.artifact_id,
        "artifact_name": closed.artifact_name,
        "artifact_version": closed.artifact_version,
        "status": _STATUS_OF_OUTCOME[closed.outcome],
        "outcome": closed.outcome,
        "decided_by": closed.by,
        "decided_at": closed.decided_at,
        "reasons": tuple(closed.reasons),
    }
    return DecisionResult(**(values | fields), jobs_moved=jobs_moved)


# --- One step per outcome ---------------------------------------------------------------------------


def _finish_waiting_jobs(
    cursor, closed: _Closed, *, status: str, error: str | None, handed_on: uuid.UUID | None = None
) -> list[str]:
    """The artifact's jobs waiting for this decision, finished as `status` at its time: their kinds."""
    cursor.execute(
        # Never before started_at (jobs_finished_after_started): the pipeline may stamp a start ahead of the clock.
        """update jobs set status = %(status)s, error = %(error)s, finished_at = greatest(%(at)s, started_at),
                  output_artifact_id = coalesce(%(handed_on)s, output_artifact_id)
            where output_artifact_id = %(artifact_id)s and status = 'needs_approval'
        returning kind""",
        {
            "status": status,
            "error": error,
            "at": closed.decided_at,
            "handed_on": handed_on,
            "artifact_id": closed.artifact_id,
        },
    )
    return [kind for (kind,) in cursor.fetchall()]


def _approve(cursor, closed: _Closed) -> DecisionResult:
    moved = _finish_waiting_jobs(cursor, closed, status=JobStatus.DONE, error=None)
    return _result(closed, jobs_moved=len(moved))


def _reject(cursor, closed: _Closed) -> DecisionResult:
    error = f"Rejected by {closed.by}: {closed.notes}"
    moved = _finish_waiting_jobs(cursor, closed, status=JobStatus.FAILED, error=error)
    return _result(closed, jobs_moved=len(moved))


def _queue_revision(cursor, closed: _Closed) -> DecisionResult:
    """Fail the draft's waiting job and queue the revision job for the agent."""
    asked = "; ".join(part for part in (", ".join(closed.reasons), closed.notes) if part)
    kinds = _finish_waiting_jobs(
        cursor, closed, status=JobStatus.FAILED, error=f"Changes requested by {closed.by}: {asked}"
    )
    failed = len(kinds)
    if not kinds:
        # No job waiting on it (the pipeline wrote the approval alone): the newest job that made it names the step.
        cursor.execute(
            "select kind from jobs where output_artifact_id = %s order by created_at desc limit 1", [closed.artifact_id]
        )
        kinds = [kind for (kind,) in cursor.fetchall()]
    if not kinds:
        raise InvalidDecision(
            "No job produced this artifact, so no agent step can be asked for a new version: reject it instead."
        )
    params = {"revision_of": str(closed.approval_id), "notes": closed.notes, "reasons": closed.reasons}
    cursor.execute(
        """insert into jobs (kind, status, input_artifact_id, params)
           values (%s, 'queued', %s, %s::jsonb) returning id""",
        [kinds[0], closed.artifact_id, json.dumps(params)],
    )
    (revision_job_id,) = cursor.fetchone()
    return _result(closed, jobs_moved=failed, revision_job_id=revision_job_id)


def _approve_edit(cursor, closed: _Closed, *, draft: Artifact, edited, notes: str) -> DecisionResult:
    """The edit as a new version, approved, and the draft's waiting jobs handed on to it."""
    version = _save_edit(draft=draft, edited=edited, editor=closed.by)
    approval = Approval.objects.create(
        artifact=version,
        status=ApprovalStatus.APPROVED,
        outcome=ApprovalOutcome.APPROVED_WITH_EDITS,
        notes=notes or None,
        reasons=[],
        decided_by=closed.by,
        decided_at=closed.decided_at,
    )
    moved = _finish_waiting_jobs(cursor, closed, status=JobStatus.DONE, error=None, handed_on=version.id)
    return _result(
        closed,
        jobs_moved=len(moved),
        approval_id=approval.id,
        artifact_id=version.id,
        artifact_name=version.name,
        artifact_version=version.version,
        status=ApprovalStatus.APPROVED,
        outcome=ApprovalOutcome.APPROVED_WITH_EDITS,
        replaced_approval_id=closed.approval_id,
        draft_artifact_id=draft.id,
    )


def _save_edit(*, draft: Artifact, edited, editor: str) -> Artifact:
    # The next free number of this (project, name): version + 1 unless a later version already exists.
    latest = Artifact.objects.filter(project_id=draft.project_id, name=draft.name).order_by("-version").first()
    metadata = draft.metadata if isinstance(draft.metadata, dict) else {}
    is_json = draft.kind == ArtifactKind.JSON
    return Artifact.objects.create(
        project_id=draft.project_id,
        name=draft.name,
        kind=draft.kind,
        body_text=None if is_json else edited,
        body_json=edited if is_json else None,
        mime_type=draft.mime_type,
        version=max(draft.version, latest.version if latest else 0) + 1,
        previous_version=draft,
        # The reviewer is a Django user, not a Supabase one: created_by stays null, the name goes in metadata.
        metadata={**metadata, "edited_by": editor, "edit_of": str(draft.id)},
        created_by=None,
    )

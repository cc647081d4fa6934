"""What changes review state: decide, reopen, undo, requeue (claims: approvals/claims.py).

Each is one transaction. Views, admin actions and tests all call these; there
is no second code path. Who wins a race is settled by PostgreSQL (a
conditional UPDATE), never by a check made in Python beforehand.
"""

import json
import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from approvals.models import NOTES_MAX_LENGTH, Approval, ApprovalReason, ApprovalStatus, Job, JobStatus

NOTIFY_CHANNEL = "flow_approvals"
logger = logging.getLogger(__name__)


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
        when = timezone.localtime(decided_at).strftime("%Y-%m-%d %H:%M:%S %Z") if decided_at else "an unknown time"
        super().__init__(f"This item was already {status} by {who} at {when}. Nothing was changed.")


class NotReopenable(DecisionError):
    pass


class NotRequeueable(DecisionError):
    pass


class NotUndoable(DecisionError):
    pass


@dataclass(frozen=True)
class DecisionResult:
    approval_id: uuid.UUID
    artifact_id: uuid.UUID
    artifact_name: str
    artifact_version: int
    status: str
    decided_by: str
    decided_at: datetime
    jobs_moved: int


@dataclass(frozen=True)
class ReopenResult:
    old_approval_id: uuid.UUID
    new_approval_id: uuid.UUID
    artifact_id: uuid.UUID
    jobs_moved: int


@dataclass(frozen=True)
class RequeueResult:
    job_id: uuid.UUID
    previous_status: str


def clean_notes(notes: str | None, *, required: bool) -> str:
    notes = (notes or "").strip()
    if required and not notes:
        raise InvalidDecision("A reason is required to reject: say what should change.")
    if len(notes) > NOTES_MAX_LENGTH:
        raise InvalidDecision(f"Notes are limited to {NOTES_MAX_LENGTH:,} characters (these have {len(notes):,}).")
    if "\x00" in notes:
        raise InvalidDecision("Notes cannot contain NUL characters.")
    return notes


def clean_reasons(reasons: Iterable[str] | None) -> list[str]:
    """Known reason codes, each once, in the list's order; an unknown one is refused."""
    given = set(reasons or ())
    unknown = given - set(ApprovalReason.values)
    if unknown:
        raise InvalidDecision(
            f"Unknown reason code {', '.join(sorted(unknown))}: use {', '.join(ApprovalReason.values)}."
        )
    return [code for code in ApprovalReason.values if code in given]


def clean_rejection(notes: str | None, reasons: Iterable[str] | None, *, verb: str = "reject") -> tuple[str, list[str]]:
    """A rejection (or a request for changes) needs a reason code or a note."""
    reasons = clean_reasons(reasons)
    notes = clean_notes(notes, required=False)
    if not notes and not reasons:
        raise InvalidDecision(rejection_needs_a_reason(verb))
    return notes, reasons


def rejection_needs_a_reason(verb: str) -> str:
    return f"A reason is required to {verb}: tick a reason code or write a note saying what should change."


def _approval_uuid(approval_id: uuid.UUID | str) -> uuid.UUID:
    # A malformed id would otherwise reach PostgreSQL as a DataError and abort
    # the caller's transaction; it names no approval, so say so.
    try:
        return approval_id if isinstance(approval_id, uuid.UUID) else uuid.UUID(str(approval_id))
    except ValueError as exc:
        raise NotFound("This approval does not exist (the id is not valid).") from exc


def _notify(cursor, payload: dict) -> None:
    cursor.execute("select pg_notify(%s, %s)", [NOTIFY_CHANNEL, json.dumps(payload, default=str)])


def _move_jobs_on(cursor, *, artifact_id: uuid.UUID, approved: bool, at: datetime, error: str) -> int:
    """The artifact's jobs waiting for this decision: done on approve, failed with `error` on reject."""
    new_status, error = (JobStatus.DONE, None) if approved else (JobStatus.FAILED, error)
    cursor.execute(
        """update jobs set status = %s, error = %s, finished_at = %s
            where output_artifact_id = %s and status = 'needs_approval'""",
        [new_status, error, at, artifact_id],
    )
    return cursor.rowcount


def decide(
    *,
    approval_id: uuid.UUID | str,
    decision: str,
    notes: str | None,
    decided_by: str,
    reasons: Iterable[str] = (),
) -> DecisionResult:
    """Approve or reject a pending approval and move its jobs on, all or nothing."""
    approval_id = _approval_uuid(approval_id)
    if decision not in (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED):
        raise InvalidDecision(f"Unknown decision {decision!r}: use approved or rejected.")
    notes, reasons = (
        clean_rejection(notes, reasons)
        if decision == ApprovalStatus.REJECTED
        else (clean_notes(notes, required=False), clean_reasons(reasons))
    )

    with transaction.atomic(), connection.cursor() as cursor:
        # Conditional on still pending: of two racing reviewers, the second
        # waits for the first's row lock, then matches no row. The artifact's
        # name and version come back for the confirmation the reviewer sees.
        cursor.execute(
            """update approvals
                  set status = %s, outcome = %s, notes = %s, reasons = %s, decided_by = %s, decided_at = now()
                 from artifacts
                where approvals.id = %s and approvals.status = 'pending' and artifacts.id = approvals.artifact_id
            returning approvals.artifact_id, approvals.decided_at, artifacts.name, artifacts.version""",
            [decision, decision, notes or None, reasons, decided_by, approval_id],
        )
        row = cursor.fetchone()
        if row is None:
            current = Approval.objects.filter(id=approval_id).values("status", "decided_by", "decided_at").first()
            if current is None:
                raise NotFound("This approval does not exist (it may have been deleted).")
            raise AlreadyDecided(**current)
        artifact_id, decided_at, artifact_name, artifact_version = row
        # The claim on it ends with the decision (whoever held it: claims never block).
        cursor.execute("delete from review_claims where approval_id = %s", [approval_id])

        jobs_moved = _move_jobs_on(
            cursor,
            artifact_id=artifact_id,
            approved=decision == ApprovalStatus.APPROVED,
            at=decided_at,
            error=f"Rejected by {decided_by}: {notes}",
        )
        payload = {"approval_id": approval_id, "artifact_id": artifact_id, "status": decision, "decision": decision}
        _notify(cursor, payload | {"decided_by": decided_by, "reasons": reasons})
    logger.info("approval %s %s by %s; %d job(s) moved on", approval_id, decision, decided_by, jobs_moved)
    return DecisionResult(
        approval_id=approval_id,
        artifact_id=artifact_id,
        artifact_name=artifact_name,
        artifact_version=artifact_version,
        status=decision,
        decided_by=decided_by,
        decided_at=decided_at,
        jobs_moved=jobs_moved,
    )


def reopen(*, approval_id: uuid.UUID | str, reopened_by: str) -> ReopenResult:
    """Put a decided artifact back in the queue: a new pending row; the old decision stays as history."""
    approval_id = _approval_uuid(approval_id)
    with transaction.atomic():
        old = _lock_decided(
            approval_id, refusal=NotReopenable("This approval is still pending: there is nothing to reopen.")
        )
        jobs = Job.objects.filter(output_artifact_id=old.artifact_id, status__in=[JobStatus.DONE, JobStatus.FAILED])
        result = _reopen_locked(old, jobs=jobs, notice={"reopened_by": reopened_by})
    logger.info("approval %s reopened by %s as %s", old.id, reopened_by, result.new_approval_id)
    return result


def _lock_decided(approval_id: uuid.UUID, *, refusal: DecisionError) -> Approval:
    old = Approval.objects.select_for_update().filter(id=approval_id).first()
    if old is None:
        raise NotFound("This approval does not exist (it may have been deleted).")
    if old.status == ApprovalStatus.PENDING:
        raise refusal
    return old


def _reopen_locked(old: Approval, *, jobs, notice: dict, keep_place: bool = False) -> ReopenResult:
    """The reopen path shared by reopen() and undo(): a new pending row, `jobs` back to needs_approval, a notify."""
    if Approval.objects.filter(artifact_id=old.artifact_id, status=ApprovalStatus.PENDING).exists():
        raise NotReopenable("This artifact already has a pending approval in the queue.")
    # An undone decision goes back to where it stood in the queue (oldest first), not to its end.
    place = {"created_at": old.created_at} if keep_place else {}
    new = Approval.objects.create(artifact_id=old.artifact_id, status=ApprovalStatus.PENDING, **place)
    jobs_moved = jobs.update(status=JobStatus.NEEDS_APPROVAL, error=None, finished_at=None)
    with connection.cursor() as cursor:
        _notify(
            cursor,
            {"approval_id": new.id, "artifact_id": old.artifact_id, "status": "pending", "reopened_from": old.id}
            | notice,
        )
    return ReopenResult(
        old_approval_id=old.id, new_approval_id=new.id, artifact_id=old.artifact_id, jobs_moved=jobs_moved
    )


# What undo() reads about the jobs around a decision, locked so the pipeline cannot move them meanwhile:
# the jobs that made the artifact, jobs that take it as input, and revision jobs asked for by the decision.
_JOBS_AROUND_SQL = """
select id, kind, status, updated_at, output_artifact_id = %(artifact_id)s as produced_it,
       params ->> 'revision_of' = %(approval_id)s::text as revision
  from jobs
 where output_artifact_id = %(artifact_id)s or input_artifact_id = %(artifact_id)s
    or params ->> 'revision_of' = %(approval_id)s::text
   for update
"""


def _downstream_movement(old: Approval) -> str | None:
    """Why the decision can no longer be undone (something after it moved), or None."""
    with connection.cursor() as cursor:
        cursor.execute(_JOBS_AROUND_SQL, {"artifact_id": old.artifact_id, "approval_id": old.id})
        jobs = cursor.fetchall()
    left_in = JobStatus.DONE if old.status == ApprovalStatus.APPROVED else JobStatus.FAILED
    for _id, kind, status, updated_at, produced_it, revision in jobs:
        if revision:
            if status != JobStatus.QUEUED:
                return f"the revision job {kind} was already picked up by the pipeline (it is {status})."
        elif produced_it:
            # The decision stamped the jobs it moved with its own time and left them
            # in one state; a later stamp, or another state, is the pipeline's doing.
            if updated_at > old.decided_at or (updated_at == old.decided_at and status != left_in):
                return f"the job {kind} has moved on since the decision (it is {status})."
        elif updated_at >= old.decided_at:
            return f"the pipeline has started the next step ({kind}, {status}) on it."
    return None


def undo(*, approval_id: uuid.UUID | str, undone_by: str, window_seconds: int) -> ReopenResult:
    """The decider takes a decision back within `window_seconds`, while nothing downstream has moved.

    The reopen path: a new pending row (in the old one's place in the queue),
    the jobs the decision moved back to needs_approval, and any revision job
    it asked for deleted while still queued; all or nothing.
    """
    approval_id = _approval_uuid(approval_id)
    with transaction.atomic():
        old = _lock_decided(approval_id, refusal=NotUndoable("This item is pending: there is no decision to undo."))
        if old.decided_by != undone_by:
            raise NotUndoable(f"Only {old.decided_by or 'its reviewer'}, who made this decision, can undo it.")
        with connection.cursor() as cursor:
            # The database's clock, the one that stamped decided_at.
            cursor.execute("select now() - %s <= make_interval(secs => %s)", [old.decided_at, window_seconds])
            within_window = cursor.fetchone()[0]
        if not within_window:
            raise NotUndoable(f"Undo is only possible for {window_seconds} seconds after a decision; that has passed.")
        moved = _downstream_movement(old)
        if moved:
            raise NotUndoable(f"This decision can no longer be undone: {moved}")
        Job.objects.filter(params__revision_of=str(old.id), status=JobStatus.QUEUED).delete()
        jobs = Job.objects.filter(
            output_artifact_id=old.artifact_id,
            status__in=[JobStatus.DONE, JobStatus.FAILED],
            updated_at=old.decided_at,
        )
        result = _reopen_locked(old, jobs=jobs, notice={"undone_by": undone_by}, keep_place=True)
    logger.info("approval %s undone by %s as %s", old.id, undone_by, result.new_approval_id)
    return result


def requeue(*, job_id: uuid.UUID | str, requeued_by: str) -> RequeueResult:
    """Send a failed job back to the pipeline: queued, error cleared, attempts kept."""
    with transaction.atomic():
        updated = Job.objects.filter(id=job_id, status=JobStatus.FAILED).update(
            status=JobStatus.QUEUED, error=None, started_at=None, finished_at=None
        )
        if not updated:
            status = Job.objects.filter(id=job_id).values_list("status", flat=True).first()
            if status is None:
                raise NotFound("This job does not exist (it may have been deleted).")
            raise NotRequeueable(f"Only failed jobs can be requeued; this one is {status}.")
    logger.info("job %s requeued by %s", job_id, requeued_by)
    return RequeueResult(job_id=uuid.UUID(str(job_id)), previous_status=JobStatus.FAILED)

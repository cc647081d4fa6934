"""Taking a decision back (reopen, undo) and sending a failed job back (requeue)."""

import logging
import uuid

from django.db import connection, transaction

from approvals.decisions.errors import DecisionError, NotFound, NotReopenable, NotRequeueable, NotUndoable
from approvals.decisions.inputs import approval_uuid
from approvals.decisions.results import ReopenResult, RequeueResult, announce
from approvals.models import Approval, ApprovalStatus, Job, JobStatus

logger = logging.getLogger("approvals.decisions")


def reopen(*, approval_id: uuid.UUID | str, reopened_by: str) -> ReopenResult:
    """Put a decided artifact back in the queue: a new pending row; the old decision stays as history."""
    approval_id = approval_uuid(approval_id)
    with transaction.atomic():
        old = _lock_decided(
            approval_id, refusal=NotReopenable("This approval is still pending: there is nothing to reopen.")
        )
        jobs = Job.objects.filter(output_artifact_id=old.artifact_id, status__in=[JobStatus.DONE, JobStatus.FAILED])
        return _open_pending(old, jobs=jobs, by=reopened_by)


def _lock_decided(approval_id: uuid.UUID, *, refusal: DecisionError) -> Approval:
    old = Approval.objects.select_for_update().filter(id=approval_id).first()
    if old is None:
        raise NotFound("This approval does not exist (it may have been deleted).")
    if old.status == ApprovalStatus.PENDING:
        raise refusal
    return old


def _open_pending(old: Approval, *, jobs, by: str, undone: bool = False) -> ReopenResult:
    """The step reopen() and undo() share: a new pending row, `jobs` back to needs_approval, the ending."""
    if Approval.objects.filter(artifact_id=old.artifact_id, status=ApprovalStatus.PENDING).exists():
        raise NotReopenable("This artifact already has a pending approval in the queue.")
    # An undone decision goes back to where it stood in the queue (oldest first), not to its end.
    place = {"created_at": old.created_at} if undone else {}
    new = Approval.objects.create(artifact_id=old.artifact_id, status=ApprovalStatus.PENDING, **place)
    jobs_moved = jobs.update(status=JobStatus.NEEDS_APPROVAL, error=None, finished_at=None)
    result = ReopenResult(
        old_approval_id=old.id,
        new_approval_id=new.id,
        artifact_id=old.artifact_id,
        jobs_moved=jobs_moved,
        reopened_by=by,
        undone=undone,
    )
    with connection.cursor() as cursor:
        announce(cursor, result)
    return result


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

    The reopen step: a new pending row (in the old one's place in the queue),
    the jobs the decision moved back to needs_approval, and any revision job
    it asked for deleted while still queued; all or nothing.
    """
    approval_id = approval_uuid(approval_id)
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
        return _open_pending(old, jobs=jobs, by=undone_by, undone=True)


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

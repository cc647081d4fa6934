"""Taking a decision back (reopen, undo) and sending a failed job back (requeue)."""

import logging
import uuid

from django.db import IntegrityError, connection, transaction

from approvals.decisions.errors import DecisionError, NotFound, NotReopenable, NotRequeueable, NotUndoable, moment
from approvals.decisions.inputs import approval_uuid
from approvals.decisions.results import ReopenResult, RequeueResult, announce
from approvals.models import Approval, ApprovalOutcome, ApprovalStatus, Job, JobStatus, ReviewTakeback, TakebackKind

logger = logging.getLogger("approvals.decisions")


def reopen(*, approval_id: uuid.UUID | str, reopened_by: str) -> ReopenResult:
    """Put a decided artifact back in the queue: a new pending row; the old decision stays as history.

    A revision job the decision asked for is withdrawn while still queued (else the
    agent would revise a post that is back in review); one already picked up refuses.
    """
    approval_id = approval_uuid(approval_id)
    with transaction.atomic():
        old = _lock_decided(
            approval_id, refusal=NotReopenable("This approval is still pending: there is nothing to reopen.")
        )
        _refuse_unless_latest(old, refusal=NotReopenable)
        _withdraw_revision_job(old)
        jobs = Job.objects.filter(output_artifact_id=old.artifact_id, status__in=[JobStatus.DONE, JobStatus.FAILED])
        return _open_pending(old, jobs=jobs, by=reopened_by)


def _lock_decided(approval_id: uuid.UUID, *, refusal: DecisionError) -> Approval:
    old = Approval.objects.select_for_update().select_related("artifact").filter(id=approval_id).first()
    if old is None:
        raise NotFound("This approval does not exist (it may have been deleted).")
    if old.status == ApprovalStatus.PENDING:
        raise refusal
    return old


def _refuse_unless_latest(old: Approval, *, refusal: type[DecisionError]) -> None:
    """Only an artifact's latest decision can be taken back, once, and only while no newer version of the
    post is approved or pending: else two versions (or two decisions) of one post would stand at once."""
    newer = _newer_version_in_play(old.artifact)
    if newer is not None:
        state = "in the queue" if newer.status == ApprovalStatus.PENDING else f"approved by {newer.decided_by}"
        raise refusal(
            f"v{newer.artifact.version} of {old.artifact.name} is {state}: taking back the decision on "
            f"v{old.artifact.version} would put two versions of one post in play. "
            f"Decide on v{newer.artifact.version} instead."
        )
    if Approval.objects.filter(artifact_id=old.artifact_id, status=ApprovalStatus.PENDING).exists():
        raise refusal("This artifact already has a pending approval in the queue.")
    taken_back = ReviewTakeback.objects.filter(approval_id=old.id).first()
    if taken_back is not None:
        how = "undone" if taken_back.kind == TakebackKind.UNDO else "reopened"
        raise refusal(
            f"This decision was already taken back: {how} by {taken_back.taken_back_by} at "
            f"{moment(taken_back.taken_back_at)}. Nothing was changed."
        )
    # Decided again through another path (the pipeline wrote a new pending approval, say).
    later = Approval.objects.filter(artifact_id=old.artifact_id, decided_at__gt=old.decided_at).first()
    if later is not None:
        raise refusal(
            f"A later decision stands: the item was {later.status} by {later.decided_by or 'someone'} since. "
            "Nothing was changed."
        )


def _newer_version_in_play(draft) -> Approval | None:
    """The approval of a later version of the same post that is pending or approved, if any."""
    return (
        Approval.objects.filter(
            artifact__project_id=draft.project_id,
            artifact__name=draft.name,
            artifact__version__gt=draft.version,
            status__in=[ApprovalStatus.PENDING, ApprovalStatus.APPROVED],
        )
        .select_related("artifact")
        .order_by("-artifact__version")
        .first()
    )


def _withdraw_revision_job(old: Approval) -> None:
    """Delete the revision job `old` asked for while the agent has not started it; refuse once it has."""
    revision = (
        Job.objects.select_for_update()
        .filter(params__revision_of=str(old.id))
        .exclude(status=JobStatus.QUEUED)
        .values_list("kind", "status")
        .first()
    )
    if revision is not None:
        kind, status = revision
        raise NotReopenable(
            f"The agent has already picked up the revision job {kind} this decision asked for (it is {status}): "
            "its new version comes to the queue instead."
        )
    Job.objects.filter(params__revision_of=str(old.id), status=JobStatus.QUEUED).delete()


def _open_pending(old: Approval, *, jobs, by: str, undone: bool = False, withdrawn=None) -> ReopenResult:
    """The step reopen() and undo() share: a new pending row, `jobs` back to needs_approval, the ending."""
    # An undone decision goes back to where it stood in the queue (oldest first), not to its end.
    place = {"created_at": old.created_at} if undone else {}
    try:
        # A savepoint: the pipeline may add a pending approval for the artifact at this very moment,
        # and the partial unique index (one pending approval per artifact) then refuses ours.
        with transaction.atomic():
            new = Approval.objects.create(artifact_id=old.artifact_id, status=ApprovalStatus.PENDING, **place)
    except IntegrityError as error:
        raise NotReopenable("This artifact already has a pending approval in the queue.") from error
    # The primary key takes a decision back once: a racing second undo or reopen waits here, then fails.
    ReviewTakeback.objects.create(
        approval_id=old.id,
        reopened_as_id=new.id,
        kind=TakebackKind.UNDO if undone else TakebackKind.REOPEN,
        taken_back_by=by,
    )
    jobs_moved = jobs.update(status=JobStatus.NEEDS_APPROVAL, error=None, finished_at=None)
    result = ReopenResult(
        old_approval_id=old.id,
        new_approval_id=new.id,
        artifact_id=old.artifact_id,
        jobs_moved=jobs_moved,
        reopened_by=by,
        undone=undone,
        withdrawn_artifact_id=withdrawn,
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
    it asked for deleted while still queued; all or nothing. Undoing an
    approved edit puts the agent's draft back and withdraws the edit.
    """
    approval_id = approval_uuid(approval_id)
    with transaction.atomic():
        old = _lock_decided(approval_id, refusal=NotUndoable("This item is pending: there is no decision to undo."))
        if old.decided_by != undone_by:
            raise NotUndoable(f"Only {old.decided_by or 'its reviewer'}, who made this decision, can undo it.")
        with connection.cursor() as cursor:
            # The database's clock, the one that stamped decided_at.
            # Compared, never subtracted: PostgreSQL cannot subtract an infinite decided_at the pipeline wrote.
            cursor.execute("select %s >= now() - make_interval(secs => %s)", [old.decided_at, window_seconds])
            within_window = cursor.fetchone()[0]
        if not within_window:
            raise NotUndoable(f"Undo is only possible for {window_seconds} seconds after a decision; that has passed.")
        _refuse_unless_latest(old, refusal=NotUndoable)
        moved = _downstream_movement(old)
        if moved:
            raise NotUndoable(f"This decision can no longer be undone: {moved}")
        if old.outcome == ApprovalOutcome.APPROVED_WITH_EDITS:
            return _undo_edit(old, undone_by=undone_by)
        Job.objects.filter(params__revision_of=str(old.id), status=JobStatus.QUEUED).delete()
        jobs = Job.objects.filter(
            output_artifact_id=old.artifact_id,
            status__in=[JobStatus.DONE, JobStatus.FAILED],
            updated_at=old.decided_at,
        )
        return _open_pending(old, jobs=jobs, by=undone_by, undone=True)


def _undo_edit(edit: Approval, *, undone_by: str) -> ReopenResult:
    """The agent's draft back in its place in the queue, its jobs with it; the reviewer's version deleted."""
    replaced = (
        Approval.objects.select_for_update()
        .filter(
            artifact_id=edit.artifact.previous_version_id,
            outcome=ApprovalOutcome.REPLACED_BY_EDIT,
            decided_at=edit.decided_at,
        )
        .first()
    )
    if replaced is None:
        raise NotUndoable("The draft this edit replaced is gone: there is nothing to go back to.")
    handed_on = Job.objects.filter(
        output_artifact_id=edit.artifact_id, status=JobStatus.DONE, updated_at=edit.decided_at
    )
    job_ids = list(handed_on.values_list("id", flat=True))
    Job.objects.filter(id__in=job_ids).update(output_artifact_id=replaced.artifact_id)
    with connection.cursor() as cursor:
        # The database's own cascade takes the edit's approval (and what derives from it) with it.
        cursor.execute("delete from artifacts where id = %s", [edit.artifact_id])
    return _open_pending(
        replaced, jobs=Job.objects.filter(id__in=job_ids), by=undone_by, undone=True, withdrawn=edit.artifact_id
    )


def requeue(*, job_id: uuid.UUID | str, requeued_by: str) -> RequeueResult:
    """Send a failed job back to the pipeline: queued, error cleared, attempts kept.

    Refused while a request for changes on the job's draft has its own revision
    job under way or done: the agent would make a second new version of one post.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(id=job_id).first()
        if job is None:
            raise NotFound("This job does not exist (it may have been deleted).")
        if job.status != JobStatus.FAILED:
            raise NotRequeueable(f"Only failed jobs can be requeued; this one is {job.status}.")
        revision = (
            Job.objects.filter(input_artifact_id=job.output_artifact_id, params__has_key="revision_of")
            .exclude(status=JobStatus.FAILED)
            .values_list("kind", "status")
            .first()
            if job.output_artifact_id
            else None
        )
        if revision is not None:
            kind, status = revision
            raise NotRequeueable(
                f"A request for changes on this job's draft already has its revision job {kind} ({status}): "
                "requeueing would make a second version of the same post."
            )
        Job.objects.filter(id=job.id).update(status=JobStatus.QUEUED, error=None, started_at=None, finished_at=None)
    logger.info("job %s requeued by %s", job.id, requeued_by)
    return RequeueResult(job_id=job.id, previous_status=JobStatus.FAILED)

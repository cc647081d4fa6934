"""Reopen, undo and requeue never act on one decision twice, never put two versions of a post in play,
and answer a race with the pipeline in words, not a 500."""

import threading
import time

import pytest
from django.db import connection, connections

from approvals.decisions import (
    NotReopenable,
    NotRequeueable,
    NotUndoable,
    approve_with_edits,
    decide,
    reopen,
    request_changes,
    requeue,
    undo,
)
from approvals.models import Approval, ApprovalOutcome, ApprovalStatus, Artifact, Job, JobStatus
from approvals.tests.factories import make_pending_review

WINDOW = 30


def changes_requested() -> tuple[Approval, Job]:
    approval = make_pending_review(name="launch-post", body_text="Launch day!")
    result = request_changes(approval_id=approval.id, notes="Shorter.", reasons=["length"], decided_by="ana")
    return approval, Job.objects.get(id=result.revision_job_id)


def pending_of(artifact_id) -> list[Approval]:
    return list(Approval.objects.filter(artifact_id=artifact_id, status=ApprovalStatus.PENDING))


# --- one request for changes is acted on once ----------------------------------------------------------


@pytest.mark.django_db
def test_reopening_a_request_for_changes_withdraws_its_revision_job_while_queued():
    approval, revision = changes_requested()

    reopen(approval_id=approval.id, reopened_by="lead")

    assert not Job.objects.filter(id=revision.id).exists()
    assert len(pending_of(approval.artifact_id)) == 1


@pytest.mark.django_db
def test_reopening_is_refused_once_the_agent_picked_up_the_revision_job():
    approval, revision = changes_requested()
    Job.objects.filter(id=revision.id).update(status=JobStatus.RUNNING)

    with pytest.raises(
        NotReopenable, match=r"picked up the revision job draft_post this decision asked for \(it is running\)"
    ):
        reopen(approval_id=approval.id, reopened_by="lead")

    assert Job.objects.get(id=revision.id).status == JobStatus.RUNNING
    assert pending_of(approval.artifact_id) == []


@pytest.mark.django_db
def test_requeueing_a_job_failed_by_a_request_for_changes_is_refused_while_its_revision_exists():
    approval, revision = changes_requested()
    failed = Job.objects.get(output_artifact_id=approval.artifact_id, status=JobStatus.FAILED)

    with pytest.raises(NotRequeueable, match="already has its revision job draft_post .queued."):
        requeue(job_id=failed.id, requeued_by="ops")

    assert Job.objects.get(id=failed.id).status == JobStatus.FAILED
    assert Job.objects.filter(status=JobStatus.QUEUED).count() == 1


@pytest.mark.django_db
def test_a_failed_job_with_no_revision_under_way_is_still_requeued():
    approval = make_pending_review()
    decide(approval_id=approval.id, decision="rejected", notes="No.", decided_by="ana")
    failed = Job.objects.get(output_artifact_id=approval.artifact_id)

    requeue(job_id=failed.id, requeued_by="ops")

    assert Job.objects.get(id=failed.id).status == JobStatus.QUEUED


# --- a decision is taken back once ---------------------------------------------------------------------


# Each decision in its own transaction, as in use: "later" is told by decided_at, the transaction's time.
def test_undoing_an_undone_decision_again_leaves_the_later_decision_standing(transactional_pipeline_db):
    approval = make_pending_review(name="launch-post", with_run=False)
    Job.objects.filter(output_artifact_id=approval.artifact_id).delete()  # no job: nothing downstream to move
    decide(approval_id=approval.id, decision="approved", notes="", decided_by="ana")
    again = undo(approval_id=approval.id, undone_by="ana", window_seconds=WINDOW)
    decide(approval_id=again.new_approval_id, decision="rejected", notes="Off brand.", decided_by="bo")

    with pytest.raises(NotUndoable, match="already taken back: undone by ana"):
        undo(approval_id=approval.id, undone_by="ana", window_seconds=WINDOW)

    assert Approval.objects.get(id=again.new_approval_id).status == ApprovalStatus.REJECTED
    assert pending_of(approval.artifact_id) == []


# Each decision in its own transaction, as in use: "later" is told by decided_at, the transaction's time.
def test_reopening_an_older_decision_is_refused_once_the_item_was_decided_again(transactional_pipeline_db):
    approval = make_pending_review(name="launch-post")
    decide(approval_id=approval.id, decision="rejected", notes="No.", decided_by="ana")
    first = reopen(approval_id=approval.id, reopened_by="lead")
    decide(approval_id=first.new_approval_id, decision="approved", notes="", decided_by="bo")

    with pytest.raises(NotReopenable, match="already taken back: reopened by lead"):
        reopen(approval_id=approval.id, reopened_by="lead")


@pytest.mark.django_db(transaction=True)
def test_reopen_racing_the_pipelines_new_pending_approval_says_so(transactional_pipeline_db):
    approval = make_pending_review(name="launch-post")
    decide(approval_id=approval.id, decision="rejected", notes="No.", decided_by="ana")
    pipeline = connections.create_connection("default")
    pipeline.ensure_connection()
    pipeline.connection.execute("begin")
    pipeline.connection.execute(
        "insert into approvals (artifact_id, status) values (%s, 'pending')", [approval.artifact_id]
    )
    outcome = {}

    def reopen_now():
        try:
            reopen(approval_id=approval.id, reopened_by="lead")
            outcome["result"] = "reopened"
        except NotReopenable as refusal:
            outcome["result"] = refusal.message
        finally:
            connections.close_all()

    thread = threading.Thread(target=reopen_now)
    thread.start()
    time.sleep(0.5)  # reopen now waits on the unique index for the pipeline's uncommitted row
    pipeline.connection.execute("commit")
    thread.join(timeout=10)
    pipeline.close()

    assert outcome == {"result": "This artifact already has a pending approval in the queue."}
    assert len(pending_of(approval.artifact_id)) == 1


# --- one version of a post in play ---------------------------------------------------------------------


def approved_with_edits() -> tuple[Approval, Approval]:
    draft = make_pending_review(name="launch-post", body_text="Launch day!")
    result = approve_with_edits(approval_id=draft.id, body="Launch day, edited.", notes="", decided_by="ana")
    return draft, Approval.objects.get(id=result.approval_id)


@pytest.mark.django_db
def test_reopening_a_draft_an_edit_replaced_is_refused_while_the_edit_stands():
    draft, edit = approved_with_edits()

    with pytest.raises(NotReopenable, match="v2 of launch-post is approved by ana"):
        reopen(approval_id=draft.id, reopened_by="lead")

    assert Approval.objects.filter(status=ApprovalStatus.APPROVED).count() == 1
    assert pending_of(draft.artifact_id) == []


@pytest.mark.django_db
def test_undoing_approve_with_edits_puts_the_agents_draft_back_and_withdraws_the_edit():
    draft, edit = approved_with_edits()
    job = Job.objects.get(output_artifact_id=edit.artifact_id)

    result = undo(approval_id=edit.id, undone_by="ana", window_seconds=WINDOW)

    (back,) = pending_of(draft.artifact_id)
    assert result.new_approval_id == back.id
    assert back.created_at == draft.created_at  # its old place in the queue
    assert not Artifact.objects.filter(id=edit.artifact_id).exists()
    job.refresh_from_db()
    assert (job.output_artifact_id, job.status) == (draft.artifact_id, JobStatus.NEEDS_APPROVAL)
    assert not Approval.objects.filter(status=ApprovalStatus.APPROVED).exists()
    assert Approval.objects.get(id=draft.id).outcome == ApprovalOutcome.REPLACED_BY_EDIT  # history stays


@pytest.mark.django_db
def test_the_replaced_drafts_own_row_cannot_be_undone_past_the_edit():
    draft, edit = approved_with_edits()

    with pytest.raises(NotUndoable, match="v2 of launch-post is approved"):
        undo(approval_id=draft.id, undone_by="ana", window_seconds=WINDOW)

    assert Artifact.objects.filter(id=edit.artifact_id).exists()


# --- times the pipeline may write that Python cannot hold ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("started", ["infinity", "12000-01-01 00:00:00+00", "2999-01-01 00:00:00+00"])
def test_a_job_the_pipeline_says_starts_in_the_future_is_still_decided(started):
    approval = make_pending_review()
    with connection.cursor() as cursor:
        cursor.execute("update jobs set started_at = %s where output_artifact_id = %s", [started, approval.artifact_id])

    decide(approval_id=approval.id, decision="approved", notes="", decided_by="ana")

    with connection.cursor() as cursor:
        cursor.execute(
            "select status, finished_at >= started_at from jobs where output_artifact_id = %s", [approval.artifact_id]
        )
        assert cursor.fetchall() == [("done", True)]


@pytest.mark.django_db
@pytest.mark.parametrize(("decided", "says"), [("-infinity", "only possible for 30 seconds"), ("infinity", None)])
def test_undoing_a_decision_dated_at_infinity_answers_in_words(decided, says):
    approval = make_pending_review()
    decide(approval_id=approval.id, decision="rejected", notes="No.", decided_by="ana")
    with connection.cursor() as cursor:
        cursor.execute("update approvals set decided_at = %s where id = %s", [decided, approval.id])

    if says:
        with pytest.raises(NotUndoable, match=says):
            undo(approval_id=approval.id, undone_by="ana", window_seconds=WINDOW)
    else:  # not yet past its window: taken back like any other
        undo(approval_id=approval.id, undone_by="ana", window_seconds=WINDOW)
        assert len(pending_of(approval.artifact_id)) == 1

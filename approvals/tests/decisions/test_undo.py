"""Undo: the decider takes a decision back within the window, while nothing downstream has moved."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from approvals.decisions import NotUndoable, decide, undo
from approvals.models import Approval, ApprovalStatus, Job, JobStatus
from approvals.tests.factories import make_pending_review, make_reviewer

pytestmark = pytest.mark.django_db

WINDOW = 30


def decided(*, decision: str = "approved", by: str = "reviewer") -> Approval:
    approval = make_pending_review(name="launch-post")
    decide(
        approval_id=approval.id,
        decision=decision,
        notes="Not this one." if decision == "rejected" else "",
        decided_by=by,
    )
    approval.refresh_from_db()
    return approval


def age_decision(approval: Approval, seconds: int) -> None:
    """Move the decision back in time on the database's clock (its jobs' stamps with it)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "update jobs set updated_at = updated_at - make_interval(secs => %s) where output_artifact_id = %s",
            [seconds, approval.artifact_id],
        )
        cursor.execute(
            "update approvals set decided_at = decided_at - make_interval(secs => %s) where id = %s",
            [seconds, approval.id],
        )


def test_undo_within_the_window_puts_the_item_back_where_it_was(reviewer):
    approval = decided(decision="rejected")

    result = undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)

    reopened = Approval.objects.get(id=result.new_approval_id)
    assert reopened.status == ApprovalStatus.PENDING
    assert reopened.created_at == approval.created_at  # its old place in the queue
    assert Approval.objects.get(id=approval.id).status == ApprovalStatus.REJECTED  # history stays
    job = Job.objects.get(output_artifact_id=approval.artifact_id)
    assert (job.status, job.error, job.finished_at) == (JobStatus.NEEDS_APPROVAL, None, None)
    assert result.jobs_moved == 1


def test_undo_notifies_the_pipeline(listener):
    approval = decided()
    list(listener.notifies(timeout=5, stop_after=1))  # the decision's own notice

    result = undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)

    notices = [json.loads(note.payload) for note in listener.notifies(timeout=5, stop_after=1)]
    assert notices == [
        {
            "approval_id": str(result.new_approval_id),
            "artifact_id": str(approval.artifact_id),
            "status": "pending",
            "reopened_from": str(approval.id),
            "undone_by": "reviewer",
        }
    ]


def test_undo_after_the_window_is_refused_and_says_why(reviewer):
    approval = decided()
    age_decision(approval, WINDOW + 1)

    with pytest.raises(NotUndoable, match="only possible for 30 seconds"):
        undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)
    assert not Approval.objects.filter(status="pending").exists()


def test_undo_is_refused_once_the_job_moved_on(reviewer):
    approval = decided()
    Job.objects.filter(output_artifact_id=approval.artifact_id).update(status=JobStatus.RUNNING)

    with pytest.raises(NotUndoable, match="has moved on since the decision"):
        undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)
    assert Job.objects.get(output_artifact_id=approval.artifact_id).status == JobStatus.RUNNING
    assert not Approval.objects.filter(status="pending").exists()


def test_undo_is_refused_once_the_pipeline_started_a_next_step_on_the_artifact(reviewer):
    approval = decided()
    Job.objects.create(kind="publish_post", status=JobStatus.QUEUED, input_artifact_id=approval.artifact_id)

    with pytest.raises(NotUndoable, match="started the next step"):
        undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)


def test_undo_deletes_a_revision_job_still_queued(reviewer):
    approval = decided(decision="rejected")
    revision = Job.objects.create(
        kind="draft_post",
        status=JobStatus.QUEUED,
        input_artifact_id=approval.artifact_id,
        params={"revision_of": str(approval.id), "notes": "Not this one.", "reasons": ["tone"]},
    )

    undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)

    assert not Job.objects.filter(id=revision.id).exists()


def test_undo_is_refused_once_the_revision_job_was_picked_up(reviewer):
    approval = decided(decision="rejected")
    Job.objects.create(
        kind="draft_post",
        status=JobStatus.RUNNING,
        input_artifact_id=approval.artifact_id,
        params={"revision_of": str(approval.id)},
    )

    with pytest.raises(NotUndoable, match="revision job draft_post was already picked up"):
        undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)


def test_only_the_decider_can_undo(reviewer):
    approval = decided(by="ana")

    with pytest.raises(NotUndoable, match="Only ana"):
        undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)


def test_undo_leaves_jobs_the_decision_did_not_move(reviewer):
    approval = make_pending_review()
    # A failed earlier attempt at the same artifact, finished long before the decision.
    earlier = Job.objects.create(
        kind="draft_post",
        status=JobStatus.FAILED,
        output_artifact=approval.artifact,
        updated_at=timezone.now() - timedelta(hours=1),
    )
    decide(approval_id=approval.id, decision="approved", notes="", decided_by="reviewer")

    undo(approval_id=approval.id, undone_by="reviewer", window_seconds=WINDOW)

    assert Job.objects.get(id=earlier.id).status == JobStatus.FAILED


# --- the pages ---------------------------------------------------------------------------------------


def test_the_confirmation_after_a_decision_offers_undo_without_javascript(reviewer_client):
    first, second = make_pending_review(name="first"), make_pending_review(name="second")
    response = reviewer_client.post(reverse("approval-decide", args=[first.id]), {"decision": "approved"})
    page = reviewer_client.get(response["Location"], follow=True).content.decode()

    assert f'action="{reverse("approval-undo", args=[first.id])}"' in page
    assert ">Undo</button>" in page

    undone = reviewer_client.post(reverse("approval-undo", args=[first.id]))

    reopened = Approval.objects.get(artifact_id=first.artifact_id, status="pending")
    assert undone.status_code == 303
    assert undone["Location"] == reverse("approval-detail", args=[reopened.id])
    assert "Undone: the item is pending again." in reviewer_client.get(undone["Location"]).content.decode()
    assert second.id != reopened.id


def test_undo_after_the_window_says_why_on_the_page(reviewer_client, settings):
    approval = make_pending_review()
    reviewer_client.post(reverse("approval-decide", args=[approval.id]), {"decision": "approved"})
    age_decision(approval, settings.UNDO_SECONDS + 5)

    response = reviewer_client.post(reverse("approval-undo", args=[approval.id]), follow=True)

    assert "Undo is only possible for 30 seconds after a decision" in response.content.decode()
    assert not Approval.objects.filter(status="pending").exists()


OFFERS = [
    ({"decision": "approved"}, "the approval of first v1"),
    ({"decision": "rejected", "notes": "No."}, "the rejection of first v1"),
    ({"decision": "changes_requested", "reasons": ["tone"]}, "the request for changes to first v1"),
    ({"decision": "approved_with_edits", "edited_body": "Edited."}, "the approval with edits of first v2"),
]


@pytest.mark.parametrize(("post", "offer"), OFFERS, ids=[post["decision"] for post, _ in OFFERS])
def test_the_undo_offer_names_the_decision_that_was_made(reviewer_client, post, offer):
    first = make_pending_review(name="first", body_text="The draft.")
    make_pending_review(name="second")
    response = reviewer_client.post(reverse("approval-decide", args=[first.id]), post)
    page = reviewer_client.get(response["Location"], follow=True).content.decode()

    assert f"You can take back {offer} for a few seconds." in page


def test_the_undo_offer_is_not_shown_to_the_next_person_to_log_in_on_the_browser(reviewer_client):
    first = make_pending_review(name="first")
    make_pending_review(name="second")
    response = reviewer_client.post(reverse("approval-decide", args=[first.id]), {"decision": "approved"})
    assert "You can take back" in reviewer_client.get(response["Location"], follow=True).content.decode()
    reviewer_client.post(reverse("logout"))

    reviewer_client.force_login(make_reviewer("ana"))

    page = reviewer_client.get(reverse("queue")).content.decode()
    assert "You can take back" not in page

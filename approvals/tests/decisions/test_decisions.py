"""The decision service: what a decision changes, what it refuses, the race, the notification."""

import json
import threading
import time

import pytest
from django.db import DatabaseError, connection, connections, transaction

from approvals import claims
from approvals.decisions import (
    AlreadyDecided,
    DecisionResult,
    InvalidDecision,
    NotFound,
    decide,
    record_decision,
    reopen,
    undo,
)
from approvals.models import Approval, JobStatus, ReviewClaim
from approvals.tests.factories import make_artifact, make_job, make_pending_review

NIL_UUID = "00000000-0000-4000-8000-000000000000"


def snapshot(approval: Approval) -> tuple:
    approval.refresh_from_db()
    jobs = sorted(approval.artifact.output_jobs.values_list("kind", "status", "error"))
    return approval.status, approval.notes, approval.decided_by, approval.decided_at, jobs


# --- What a decision does ------------------------------------------------------


@pytest.mark.django_db
def test_approving_moves_the_waiting_job_to_done_and_leaves_other_jobs_alone():
    approval = make_pending_review()
    artifact = approval.artifact
    queued_retry = make_job(output_artifact=artifact, status=JobStatus.QUEUED, kind="retry")
    other = make_job(output_artifact=make_artifact(), status=JobStatus.NEEDS_APPROVAL)

    result = decide(approval_id=approval.id, decision="approved", notes="  Lovely.  ", decided_by="sam")

    approval.refresh_from_db()
    assert (approval.status, approval.notes, approval.decided_by) == ("approved", "Lovely.", "sam")
    assert approval.decided_at == result.decided_at
    job = artifact.output_jobs.get(kind="draft_post")
    assert (job.status, job.error, job.finished_at) == (JobStatus.DONE, None, result.decided_at)
    queued_retry.refresh_from_db()
    other.refresh_from_db()
    assert queued_retry.status == JobStatus.QUEUED
    assert other.status == JobStatus.NEEDS_APPROVAL
    assert result == DecisionResult(
        approval_id=approval.id,
        artifact_id=artifact.id,
        artifact_name=artifact.name,
        artifact_version=artifact.version,
        status="approved",
        outcome="approved",
        decided_by="sam",
        decided_at=result.decided_at,
        jobs_moved=1,
    )


@pytest.mark.django_db
def test_rejecting_fails_the_job_saying_who_and_why():
    approval = make_pending_review()

    decide(approval_id=str(approval.id), decision="rejected", notes="Lead with the benefit.", decided_by="alex")

    job = approval.artifact.output_jobs.get()
    assert job.status == JobStatus.FAILED
    assert job.error == "Rejected by alex: Lead with the benefit."
    approval.refresh_from_db()
    assert approval.notes == "Lead with the benefit."


@pytest.mark.django_db
def test_empty_notes_on_approve_are_stored_as_null():
    approval = make_pending_review()
    decide(approval_id=approval.id, decision="approved", notes="   ", decided_by="sam")
    approval.refresh_from_db()
    assert approval.notes is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("decision", "notes", "message"),
    [
        ("rejected", "  ", "A reason is required to reject"),
        ("rejected", None, "A reason is required to reject"),
        ("approved", "x" * 10_001, "Notes are limited to 10,000 characters (these have 10,001)."),
        ("approved", "a\x00b", "Notes cannot contain NUL characters."),
        ("pending", "", "Unknown decision 'pending'"),
        ("APPROVED", "", "Unknown decision 'APPROVED'"),
    ],
)
def test_invalid_decisions_are_refused_with_a_message_and_change_nothing(decision, notes, message):
    approval = make_pending_review()
    before = snapshot(approval)

    with pytest.raises(InvalidDecision) as refused:
        decide(approval_id=approval.id, decision=decision, notes=notes, decided_by="sam")

    assert message in refused.value.message
    assert snapshot(approval) == before


@pytest.mark.django_db
@pytest.mark.parametrize("approval_id", [NIL_UUID, "not-a-uuid", "1' or '1'='1"])
def test_a_missing_or_malformed_approval_is_not_found(approval_id):
    with pytest.raises(NotFound) as refused:
        decide(approval_id=approval_id, decision="approved", notes="", decided_by="sam")
    assert "does not exist" in refused.value.message


@pytest.mark.django_db
def test_a_second_decision_is_refused_naming_who_decided_and_when():
    approval = make_pending_review()
    first = decide(approval_id=approval.id, decision="approved", notes="Mine.", decided_by="alice")
    before = snapshot(approval)

    with pytest.raises(AlreadyDecided) as refused:
        decide(approval_id=approval.id, decision="rejected", notes="Too late.", decided_by="bob")

    error = refused.value
    assert (error.status, error.decided_by, error.decided_at) == ("approved", "alice", first.decided_at)
    assert error.message.startswith("This item was already approved by alice at ")
    assert error.message.endswith("Nothing was changed.")
    assert snapshot(approval) == before


@pytest.mark.django_db
def test_a_decision_is_all_or_nothing():
    approval = make_pending_review()
    before = snapshot(approval)
    with connection.cursor() as cursor:
        # Make the job transition fail inside the decision's transaction.
        cursor.execute(
            """create function pg_temp.refuse_job_update() returns trigger language plpgsql as
               $$ begin raise exception 'jobs are read-only in this test'; end $$;
               create trigger refuse_job_update before update on jobs
               for each row execute function pg_temp.refuse_job_update();"""
        )

    with pytest.raises(DatabaseError, match="jobs are read-only"):
        decide(approval_id=approval.id, decision="approved", notes="", decided_by="sam")

    assert snapshot(approval) == before  # the approval's update was rolled back with it


# --- Two reviewers at once -----------------------------------------------------


def _in_thread(target, results: dict, key: str) -> threading.Thread:
    def run():
        try:
            results[key] = target()
        except Exception as error:  # noqa: BLE001 (the test inspects whatever happened)
            results[key] = error
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run, name=key)
    thread.start()
    return thread


def _wait_for_lock_waiters(count: int, *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0] >= count:
                return
            time.sleep(0.02)
    raise AssertionError("the second reviewer never blocked on the first one's row lock")


@pytest.mark.usefixtures("transactional_pipeline_db")
def test_two_reviewers_racing_on_two_connections_exactly_one_wins():
    approval = make_pending_review(name="contested")
    alice_decided, release_alice = threading.Event(), threading.Event()
    results: dict = {}

    def alice():
        with transaction.atomic():
            result = decide(approval_id=approval.id, decision="approved", notes="Ship it.", decided_by="alice")
            alice_decided.set()
            release_alice.wait(10)  # hold the row lock until bob's UPDATE is waiting on it
        return result

    def bob():
        alice_decided.wait(10)
        return decide(approval_id=approval.id, decision="rejected", notes="Redo it.", decided_by="bob")

    threads = [_in_thread(alice, results, "alice"), _in_thread(bob, results, "bob")]
    try:
        assert alice_decided.wait(10)
        _wait_for_lock_waiters(1)  # bob is inside decide(), blocked: a real race, not one call after another
    finally:
        release_alice.set()
        for thread in threads:
            thread.join(15)

    assert isinstance(results["alice"], DecisionResult)
    loser = results["bob"]
    assert isinstance(loser, AlreadyDecided), loser
    assert (loser.status, loser.decided_by) == ("approved", "alice")
    assert "already approved by alice" in loser.message
    status, notes, decided_by, _, jobs = snapshot(approval)
    assert (status, notes, decided_by) == ("approved", "Ship it.", "alice")
    assert jobs == [("draft_post", JobStatus.DONE, None)]


@pytest.mark.usefixtures("transactional_pipeline_db")
@pytest.mark.slow
def test_reviewers_released_together_never_both_win():
    for _ in range(5):
        approval = make_pending_review()
        start = threading.Barrier(2)
        results: dict = {}

        def reviewer(name, decision, notes, approval_id=approval.id, start=start):
            def go():
                start.wait(5)
                return decide(approval_id=approval_id, decision=decision, notes=notes, decided_by=name)

            return go

        threads = [
            _in_thread(reviewer("alice", "approved", ""), results, "alice"),
            _in_thread(reviewer("bob", "rejected", "No."), results, "bob"),
        ]
        for thread in threads:
            thread.join(15)

        winners = [name for name, outcome in results.items() if isinstance(outcome, DecisionResult)]
        assert len(winners) == 1, results
        loser = results["bob" if winners == ["alice"] else "alice"]
        assert isinstance(loser, AlreadyDecided) and loser.decided_by == winners[0]
        assert snapshot(approval)[2] == winners[0]


# --- The notification ----------------------------------------------------------


def _received(raw_connection, *, timeout: float) -> list[dict]:
    return [json.loads(note.payload) for note in raw_connection.notifies(timeout=timeout, stop_after=1)]


def test_a_decision_notifies_listeners_on_flow_approvals(listener):
    approval = make_pending_review()

    decide(approval_id=approval.id, decision="rejected", notes="Shorter.", decided_by="bob")

    assert _received(listener, timeout=5) == [
        {
            "approval_id": str(approval.id),
            "artifact_id": str(approval.artifact_id),
            "status": "rejected",
            "decision": "rejected",
            "decided_by": "bob",
            "reasons": [],
        }
    ]


def test_a_decision_rolled_back_notifies_nobody(listener):
    approval = make_pending_review()

    with pytest.raises(RuntimeError), transaction.atomic():
        decide(approval_id=approval.id, decision="approved", notes="", decided_by="sam")
        raise RuntimeError("the caller's transaction fails after the decision")

    assert _received(listener, timeout=0.5) == []
    approval.refresh_from_db()
    assert approval.status == "pending"


# --- One writer: every kind of decision takes the same steps -----------------------------------------

EVERY_DECISION = {
    "approve": {"decision": "approved"},
    "reject": {"decision": "rejected", "notes": "Off brand."},
    "request changes": {"decision": "changes_requested", "reasons": ["tone"]},
    "approve with edits": {"decision": "approved_with_edits", "edited_body": "Launch day, edited!"},
}


def _all_received(raw_connection) -> list[dict]:
    """Every notification within 0.3 s: they are delivered at the commit, so a second one would be there too."""
    return [json.loads(note.payload) for note in raw_connection.notifies(timeout=0.3)]


@pytest.mark.parametrize("kind", EVERY_DECISION)
def test_every_decision_ends_the_claim_on_it_and_notifies_exactly_once(listener, kind):
    approval = make_pending_review(body_text="Launch day!")
    claims.claim(approval_id=approval.id, claimant="ana")
    assert ReviewClaim.objects.filter(approval_id=approval.id, claimant="ana").exists()
    fields = {"notes": "", "reasons": (), "edited_body": None} | EVERY_DECISION[kind]

    result = record_decision(approval_id=approval.id, decided_by="bo", **fields)

    assert not ReviewClaim.objects.filter(approval_id=approval.id).exists()
    assert [(note["decision"], note["decided_by"]) for note in _all_received(listener)] == [(result.outcome, "bo")]
    assert result.outcome == fields["decision"]


@pytest.mark.parametrize("kind", EVERY_DECISION)
def test_every_decision_taken_back_notifies_exactly_once(listener, kind):
    approval = make_pending_review(body_text="Launch day!")
    fields = {"notes": "", "reasons": (), "edited_body": None} | EVERY_DECISION[kind]
    result = record_decision(approval_id=approval.id, decided_by="bo", **fields)
    _all_received(listener)

    undone = undo(approval_id=result.approval_id, undone_by="bo", window_seconds=60)
    assert [note["undone_by"] for note in _all_received(listener)] == ["bo"]
    decide(approval_id=undone.new_approval_id, decision="approved", notes="", decided_by="bo")
    _all_received(listener)
    reopened = reopen(approval_id=undone.new_approval_id, reopened_by="lead")
    assert _all_received(listener) == [
        {
            "approval_id": str(reopened.new_approval_id),
            "artifact_id": str(reopened.artifact_id),
            "status": "pending",
            "reopened_from": str(undone.new_approval_id),
            "reopened_by": "lead",
        }
    ]

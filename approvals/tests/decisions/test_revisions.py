"""Request changes and approve with edits: what they refuse (and that nothing changes), and the race."""

import threading

import pytest
from django.db import connections

from approvals.decisions import (
    AlreadyDecided,
    DecisionError,
    InvalidDecision,
    approve_with_edits,
    decide,
    request_changes,
)
from approvals.models import Approval, ApprovalOutcome, Artifact, ArtifactKind, Job
from approvals.revisions import EDIT_MAX_CHARACTERS, is_editable
from approvals.tests.factories import make_artifact, make_pending_review


def state() -> tuple:
    """Everything a refused decision must leave as it was."""
    return (
        sorted(Approval.objects.values_list("id", "status", "outcome", "notes", "reasons")),
        sorted(Artifact.objects.values_list("id", "version")),
        sorted(Job.objects.values_list("id", "status", "output_artifact_id")),
    )


def refused(call, **kwargs) -> str:
    before = state()
    with pytest.raises(DecisionError) as refusal:
        call(**kwargs)
    assert state() == before
    return refusal.value.message


@pytest.mark.django_db
def test_an_edit_that_is_not_valid_json_is_refused_with_its_line():
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": ["one"]})

    message = refused(
        approve_with_edits, approval_id=approval.id, body='{\n  "thread": ["one",]\n}', notes="", decided_by="ana"
    )

    assert message.startswith("Not valid JSON: ")
    assert "(line 2, column" in message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("   \n ", "The edit is empty"),
        ("x" * (EDIT_MAX_CHARACTERS + 1), f"limited to {EDIT_MAX_CHARACTERS:,} characters"),
        ("a\x00b", "NUL"),
        ("Draft post: launch day is here.", "The edit changes nothing"),
    ],
    ids=["empty", "over-the-limit", "nul", "unchanged"],
)
def test_a_bad_text_edit_is_refused_and_changes_nothing(body, expected):
    approval = make_pending_review()

    assert expected in refused(approve_with_edits, approval_id=approval.id, body=body, notes="", decided_by="ana")


@pytest.mark.django_db
def test_json_postgres_cannot_store_is_refused_before_the_insert():
    approval = make_pending_review(kind=ArtifactKind.JSON)

    message = refused(approve_with_edits, approval_id=approval.id, body='{"a": "\\u0000"}', notes="", decided_by="ana")

    assert "\\u0000" in message


@pytest.mark.django_db
def test_a_file_is_not_editable_and_an_edit_posted_for_one_is_refused():
    approval = make_pending_review(kind=ArtifactKind.FILE, storage_path="proj/1/hero.png")

    assert not is_editable(approval.artifact)
    assert "A file cannot be edited" in refused(
        approve_with_edits, approval_id=approval.id, body="hello", notes="", decided_by="ana"
    )


@pytest.mark.django_db
def test_a_draft_longer_than_the_editor_holds_is_not_editable():
    assert not is_editable(make_artifact(body_text="x" * (EDIT_MAX_CHARACTERS + 1)))
    assert is_editable(make_artifact(body_text="x" * EDIT_MAX_CHARACTERS))


@pytest.mark.django_db
def test_request_changes_on_a_decided_item_says_who_decided_and_changes_nothing():
    approval = make_pending_review()
    decide(approval_id=approval.id, decision="approved", notes="", decided_by="sam")

    message = refused(request_changes, approval_id=approval.id, notes="Shorter.", reasons=["length"], decided_by="ana")

    assert message.startswith("This item was already approved by sam at ")


@pytest.mark.django_db
def test_request_changes_needs_a_reason_code_or_a_note():
    approval = make_pending_review()

    message = refused(request_changes, approval_id=approval.id, notes="  ", reasons=[], decided_by="ana")

    assert message.startswith("A reason is required to request changes")


@pytest.mark.django_db
def test_a_reason_code_alone_is_enough_to_reject():
    approval = make_pending_review()

    decide(approval_id=approval.id, decision="rejected", notes="", reasons=["visual"], decided_by="ana")

    approval.refresh_from_db()
    assert (approval.status, approval.notes, approval.reasons) == ("rejected", None, ["visual"])


@pytest.mark.django_db
def test_an_unknown_reason_code_is_refused():
    approval = make_pending_review()

    with pytest.raises(InvalidDecision, match="Unknown reason code vibes"):
        decide(approval_id=approval.id, decision="rejected", notes="No.", reasons=["vibes"], decided_by="ana")


@pytest.mark.django_db
def test_request_changes_without_a_job_that_made_the_draft_is_refused():
    approval = Approval.objects.create(artifact=make_artifact())

    assert "No job produced this artifact" in refused(
        request_changes, approval_id=approval.id, notes="Shorter.", reasons=[], decided_by="ana"
    )


@pytest.mark.django_db
def test_an_edit_of_a_draft_whose_next_version_exists_takes_the_next_free_number():
    approval = make_pending_review(body_text="v1")
    draft = approval.artifact
    make_artifact(project=draft.project, name=draft.name, version=2, previous_version=draft)

    result = approve_with_edits(approval_id=approval.id, body="v1, edited", notes="", decided_by="ana")

    assert result.artifact_version == 3


@pytest.mark.usefixtures("transactional_pipeline_db")
def test_an_edit_racing_a_plain_approve_has_exactly_one_winner():
    approval = make_pending_review(body_text="Launch day!")
    start = threading.Barrier(2)
    outcomes = {}

    def run(name, call, **kwargs):
        start.wait()
        try:
            outcomes[name] = call(approval_id=approval.id, decided_by=name, **kwargs).outcome
        except AlreadyDecided as lost:
            outcomes[name] = f"lost to {lost.decided_by}"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=run, args=("editor", approve_with_edits), kwargs={"body": "Launch day.", "notes": ""}),
        threading.Thread(target=run, args=("approver", decide), kwargs={"decision": "approved", "notes": ""}),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    approval.refresh_from_db()
    winner = approval.decided_by
    loser = "approver" if winner == "editor" else "editor"
    assert outcomes[loser] == f"lost to {winner}"
    assert Approval.objects.filter(status="approved").count() == 1
    if winner == "editor":
        assert outcomes["editor"] == ApprovalOutcome.APPROVED_WITH_EDITS
        assert Artifact.objects.count() == 2
    else:
        assert approval.outcome == ApprovalOutcome.APPROVED
        assert Artifact.objects.count() == 1


@pytest.mark.django_db
def test_a_json_edit_from_1_to_true_is_a_change():
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"pinned": 1})

    result = approve_with_edits(approval_id=approval.id, body='{"pinned": true}', notes="", decided_by="ana")

    assert Artifact.objects.get(id=result.artifact_id).body_json == {"pinned": True}

"""The review page's new decisions over HTTP: reasons, Request changes, Edit and Approve with edits, History."""

import pytest
from django.urls import reverse

from approvals.models import Approval, ApprovalOutcome, Artifact, ArtifactKind, Job
from approvals.revisions import EDIT_MAX_CHARACTERS
from approvals.tests.factories import make_pending_review

pytestmark = pytest.mark.django_db


def decide_url(approval) -> str:
    return reverse("approval-decide", args=[approval.id])


def test_the_review_form_has_reasons_and_three_decisions(reviewer_client):
    approval = make_pending_review()

    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert "<legend>Reasons</legend>" in page
    for code in ("tone", "accuracy", "brand", "length", "legal", "visual", "other"):
        assert f'name="reasons" value="{code}"' in page
    assert 'value="changes_requested" class="request-changes">Request changes</button>' in page


def test_a_reason_code_without_notes_is_enough_to_reject(reviewer_client):
    approval = make_pending_review()

    response = reviewer_client.post(decide_url(approval), {"decision": "rejected", "reasons": ["brand"]})

    assert response.status_code == 303
    approval.refresh_from_db()
    assert (approval.status, approval.reasons) == ("rejected", ["brand"])


def test_request_changes_with_neither_reason_nor_note_is_refused(reviewer_client):
    approval = make_pending_review()

    response = reviewer_client.post(decide_url(approval), {"decision": "changes_requested", "notes": ""})

    assert response.status_code == 422
    assert "A reason is required to request changes" in response.content.decode()
    assert Approval.objects.get(id=approval.id).status == "pending"
    assert Job.objects.count() == 1


def test_request_changes_queues_a_revision_and_says_so(reviewer_client):
    approval = make_pending_review()

    response = reviewer_client.post(
        decide_url(approval), {"decision": "changes_requested", "reasons": ["tone", "length"]}, follow=True
    )

    assert f"Requested changes to {approval.artifact.name} v1." in response.content.decode()
    assert Job.objects.filter(status="queued", input_artifact_id=approval.artifact_id).count() == 1


def test_edit_is_offered_for_text_and_not_for_a_file(reviewer_client):
    text = make_pending_review(metadata={"platform": "x"})
    file = make_pending_review(kind=ArtifactKind.FILE, storage_path="proj/1/hero.png")

    text_page = reviewer_client.get(reverse("approval-detail", args=[text.id])).content.decode()
    file_page = reviewer_client.get(reverse("approval-detail", args=[file.id])).content.decode()

    assert "<summary>Edit</summary>" in text_page
    assert "Approve with edits" in text_page
    assert "<summary>Edit</summary>" not in file_page
    assert "Approve with edits" not in file_page


def test_an_edit_posted_for_a_file_is_refused_with_a_message(reviewer_client):
    approval = make_pending_review(kind=ArtifactKind.FILE, storage_path="proj/1/hero.png")

    response = reviewer_client.post(decide_url(approval), {"decision": "approved_with_edits", "edited_body": "hi"})

    assert response.status_code == 422
    assert "A file cannot be edited here" in response.content.decode()
    assert Approval.objects.get(id=approval.id).status == "pending"
    assert Artifact.objects.count() == 1


def test_approve_with_edits_then_history_shows_the_edit_and_its_diff(reviewer_client):
    approval = make_pending_review(body_text="Launch day!\nCome along.", metadata={"platform": "x"})

    reviewer_client.post(
        decide_url(approval), {"decision": "approved_with_edits", "edited_body": "Launch day.\r\nCome along."}
    )
    history = reviewer_client.get(reverse("history")).content.decode()

    edited = Approval.objects.get(outcome=ApprovalOutcome.APPROVED_WITH_EDITS)
    assert edited.artifact.body_text == "Launch day.\nCome along."
    assert ">Approved with edits</span>" in history
    assert ">Replaced by edit</span>" in history
    assert '<span class="diff-line diff-remove">-Launch day!</span>' in history
    assert '<span class="diff-line diff-add">+Launch day.</span>' in history


def test_history_filters_by_reason(reviewer_client):
    tone = make_pending_review(name="tone-post")
    legal = make_pending_review(name="legal-post")
    reviewer_client.post(decide_url(tone), {"decision": "rejected", "reasons": ["tone"]})
    reviewer_client.post(decide_url(legal), {"decision": "rejected", "reasons": ["legal", "brand"]})

    page = reviewer_client.get(reverse("history"), {"reason": "legal"}).content.decode()

    assert ">legal-post</a>" in page
    assert ">tone-post</a>" not in page


def test_history_filters_by_the_new_decisions(reviewer_client):
    changed = make_pending_review(name="changed-post")
    plain = make_pending_review(name="plain-post")
    reviewer_client.post(decide_url(changed), {"decision": "changes_requested", "notes": "Shorter."})
    reviewer_client.post(decide_url(plain), {"decision": "rejected", "notes": "No."})

    page = reviewer_client.get(reverse("history"), {"decision": "changes_requested"}).content.decode()

    assert ">changed-post</a>" in page
    assert ">plain-post</a>" not in page


def test_the_live_check_gives_a_json_error_with_its_line(reviewer_client):
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": ["one"]}, metadata={"platform": "x"})

    response = reviewer_client.post(
        reverse("approval-edit-check", args=[approval.id]), {"edited_body": '{\n  "thread": [\n    "one",\n  ]\n}'}
    )

    assert response.status_code == 200
    assert "Not valid JSON: Expecting value (line 4, column 3)." in response.content.decode()


def test_the_live_check_counts_each_post_of_a_thread(reviewer_client):
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": ["one"]}, metadata={"platform": "x"})

    response = reviewer_client.post(
        reverse("approval-edit-check", args=[approval.id]), {"edited_body": '{"thread": ["one", "' + "a" * 281 + '"]}'}
    )

    page = response.content.decode()
    assert "Post 1: <span data-edit-count>3 / 280</span>" in page
    assert "Post 2: <span data-edit-count>281 / 280</span>" in page
    assert "Over X&#x27;s limit by 1." in page


def test_the_next_version_shows_what_was_asked(reviewer_client):
    from bench import example_agent

    approval = make_pending_review(body_text="Launch day!", metadata={"platform": "x"})
    reviewer_client.post(
        decide_url(approval), {"decision": "changes_requested", "reasons": ["tone"], "notes": "Calmer"}
    )
    revision_job = Job.objects.get(status="queued")
    # The agent's work, written as the example agent writes it (its own transaction is tested in the contract tests).
    v2 = Artifact.objects.create(
        project=approval.artifact.project,
        name=approval.artifact.name,
        kind="text",
        body_text=example_agent.revise_text("Launch day!", notes="Calmer", network=None),
        version=2,
        previous_version=approval.artifact,
        metadata={"platform": "x"},
    )
    Job.objects.filter(id=revision_job.id).update(status="needs_approval", output_artifact=v2)
    pending = Approval.objects.create(artifact=v2)

    page = reviewer_client.get(reverse("approval-detail", args=[pending.id])).content.decode()

    assert "Changes requested on v1" in page
    assert '<span class="badge badge-reason">Tone</span>' in page
    assert "Calmer" in page
    assert "Changes since v1" in page


def test_the_admin_shows_reasons_and_filters_by_reason_and_decision(admin_client):
    tone = make_pending_review(name="tone-post")
    edited = make_pending_review(name="edited-post")
    admin_client.post(decide_url(tone), {"decision": "rejected", "reasons": ["tone", "visual"]})
    admin_client.post(decide_url(edited), {"decision": "approved_with_edits", "edited_body": "Edited."})
    changelist = reverse("admin:approvals_approval_changelist")

    by_reason = admin_client.get(changelist, {"reason": "visual"}).content.decode()
    by_edit = admin_client.get(changelist, {"outcome": "approved_with_edits"}).content.decode()

    assert ">tone-post v1</a>" in by_reason
    assert '<td class="field-reasons">tone, visual</td>' in by_reason
    assert "edited-post v2</a>" not in by_reason
    assert ">edited-post v2</a>" in by_edit
    assert "tone-post v1</a>" not in by_edit


def test_a_refused_edit_reopens_the_editor_with_what_was_typed(reviewer_client):
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": ["one"]}, metadata={"platform": "x"})

    response = reviewer_client.post(
        decide_url(approval), {"decision": "approved_with_edits", "edited_body": '{"thread": ["one", "two"'}
    )

    page = response.content.decode()
    assert response.status_code == 422
    assert "Not valid JSON: Expecting &#x27;,&#x27; delimiter (line 1, column 25)." in page
    assert '<details class="editor" data-editor open>' in page
    assert "{&quot;thread&quot;: [&quot;one&quot;, &quot;two&quot;</textarea>" in page
    assert Approval.objects.get(id=approval.id).status == "pending"


NUMBERS_POSTGRESQL_CANNOT_STORE = {
    "NaN": '{"thread": ["one"], "score": NaN}',
    "Infinity": '{"thread": ["one"], "score": -Infinity}',
    "1e400": '{"thread": ["one"], "score": 1e400}',
    "4,301 digits": '{"thread": ["one"], "score": ' + "9" * 4301 + "}",
}


@pytest.mark.parametrize("body", NUMBERS_POSTGRESQL_CANNOT_STORE.values(), ids=NUMBERS_POSTGRESQL_CANNOT_STORE)
def test_a_json_edit_with_a_number_postgresql_cannot_store_is_refused_in_words(reviewer_client, body):
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": ["one"]}, metadata={"platform": "x"})

    check = reviewer_client.post(reverse("approval-edit-check", args=[approval.id]), {"edited_body": body})
    response = reviewer_client.post(decide_url(approval), {"decision": "approved_with_edits", "edited_body": body})

    assert check.status_code == 200
    assert "data-edit-error" in check.content.decode()
    assert response.status_code == 422
    assert Approval.objects.get(id=approval.id).status == "pending"
    assert Artifact.objects.count() == 1


def test_a_crafted_edit_of_a_draft_longer_than_the_editor_holds_is_refused(reviewer_client):
    approval = make_pending_review(body_text="x" * (EDIT_MAX_CHARACTERS + 1))

    response = reviewer_client.post(decide_url(approval), {"decision": "approved_with_edits", "edited_body": "Short."})

    assert response.status_code == 422
    assert "longer than the editor holds" in response.content.decode()
    assert Approval.objects.get(id=approval.id).status == "pending"
    assert Artifact.objects.count() == 1

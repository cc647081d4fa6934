"""What the review and history pages say about time and decisions: decided facts, waits, badges, time zones."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.decisions import decide, reopen
from approvals.models import Approval, ApprovalStatus
from approvals.tests.factories import make_artifact, make_pending_review, make_project

pytestmark = pytest.mark.django_db


def page(client, approval: Approval) -> str:
    return client.get(reverse("approval-detail", args=[approval.id])).content.decode()


def test_a_decided_item_says_who_decided_and_not_how_long_it_waits(reviewer_client):
    approval = make_pending_review(name="decided-post")
    decide(approval_id=approval.id, decision=ApprovalStatus.APPROVED, notes="", decided_by="sam")

    body = page(reviewer_client, approval)

    assert "waiting since" not in body
    assert "Approved by sam on" in body


def test_a_reopened_item_shows_the_wait_since_review_was_first_asked(reviewer_client):
    first = make_pending_review(name="reopened-post")
    Approval.objects.filter(id=first.id).update(created_at=timezone.now() - timedelta(hours=20, minutes=5))
    decide(approval_id=first.id, decision=ApprovalStatus.REJECTED, notes="Wrong date.", decided_by="sam")
    reopened = Approval.objects.get(id=reopen(approval_id=first.id, reopened_by="ops").new_approval_id)

    body = page(reviewer_client, reopened)

    assert "(20 h 5 min, reopened)" in body
    assert "&lt;1 min" not in body


def test_earlier_versions_show_each_decision_badge_once(reviewer_client):
    project = make_project(name="Launch")
    v1 = make_artifact(project=project, name="post", body_text="One.")
    v2 = make_artifact(project=project, name="post", body_text="Two.", version=2, previous_version=v1)
    old = make_pending_review(artifact=v1)
    decide(approval_id=old.id, decision=ApprovalStatus.REJECTED, notes="Too short.", decided_by="alex")
    approval = make_pending_review(artifact=v2)

    body = page(reviewer_client, approval)
    versions = body[body.index('id="versions-title"') :]

    assert versions.count('class="badge badge-rejected"') == 1
    assert "By alex" in versions and "Too short." in versions
    assert "The first version." not in versions


def test_metadata_has_its_own_heading_below_the_details(reviewer_client):
    approval = make_pending_review(name="with-metadata", metadata={"platform": "x", "prompt": "Tease the launch"})

    body = page(reviewer_client, approval)
    details = body[body.index('id="details-title"') : body.index('id="jobs-title"')]

    assert details.index("<dt>Project</dt>") < details.index(">Metadata</h3>") < details.index("<dt>platform</dt>")


def test_history_times_carry_the_time_zone_and_rows_without_notes_stay_blank(reviewer_client):
    approval = make_pending_review(name="approved-quietly")
    decide(approval_id=approval.id, decision=ApprovalStatus.APPROVED, notes="", decided_by="sam")

    body = reviewer_client.get(reverse("history")).content.decode()

    assert " UTC</time>" in body
    assert '<td class="notes-cell"></td>' in body
    assert '<span class="muted">–</span>' not in body


def test_favicon_ico_sends_browsers_to_the_svg_icon(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"].endswith(".svg")
    assert "favicon" in response["Location"]

"""Posting a decision from the review page: with htmx, without JavaScript, and every way it can be refused."""

import pytest
from django.test import Client
from django.urls import reverse

from approvals.decisions import decide
from approvals.models import Approval, JobStatus
from approvals.tests.factories import make_project, make_queue

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def state(approval: Approval) -> tuple:
    approval.refresh_from_db()
    job = approval.artifact.output_jobs.get()
    return approval.status, approval.notes, approval.decided_by, job.status, job.error


def decide_url(approval: Approval) -> str:
    return reverse("approval-decide", args=[approval.id])


def next_item_location(client, response) -> str:
    """Where a browser without JavaScript lands after a decision: the POST
    redirects to the next-item URL, which redirects to the item (or the queue)."""
    assert response.status_code == 303
    assert response["Location"].startswith(reverse("approval-next") + "?after=")
    followed = client.get(response["Location"])
    assert followed.status_code == 302
    return followed["Location"]


def test_approving_without_javascript_redirects_to_the_next_item_with_a_message(reviewer_client):
    first, second = make_queue("first-post", "second-post")

    response = reviewer_client.post(decide_url(first), {"decision": "approved", "notes": "Good to go."})

    location = next_item_location(reviewer_client, response)
    assert location == reverse("approval-detail", args=[second.id])
    assert state(first) == ("approved", "Good to go.", "reviewer", JobStatus.DONE, None)
    page = reviewer_client.get(location).content.decode()
    assert "Approved first-post v1." in page
    assert '<h1 tabindex="-1">second-post' in page


def test_rejecting_records_the_reason_and_fails_the_job(reviewer_client):
    (approval,) = make_queue("weak-post")

    response = reviewer_client.post(
        decide_url(approval), {"decision": "rejected", "notes": "Lead with\r\nthe benefit."}
    )

    assert next_item_location(reviewer_client, response) == reverse("queue")  # nothing left
    assert state(approval) == (
        "rejected",
        "Lead with\nthe benefit.",
        "reviewer",
        JobStatus.FAILED,
        "Rejected by reviewer: Lead with\nthe benefit.",
    )


def test_after_the_newest_item_the_next_is_the_oldest_still_pending(reviewer_client):
    oldest, newest = make_queue("oldest", "newest")

    response = reviewer_client.post(decide_url(newest), {"decision": "approved"})

    assert next_item_location(reviewer_client, response) == reverse("approval-detail", args=[oldest.id])


def test_the_next_item_respects_the_queue_filters(reviewer_client):
    launch = make_project(name="Launch")
    first, _, third = make_queue("first", "other-project", "third")
    for approval in (first, third):
        approval.artifact.project = launch
        approval.artifact.save(update_fields=["project"])

    response = reviewer_client.post(f"{decide_url(first)}?project={launch.id}", {"decision": "approved"})

    location = next_item_location(reviewer_client, response)
    assert location == f"{reverse('approval-detail', args=[third.id])}?project={launch.id}"


def test_the_next_item_is_chosen_when_the_browser_arrives_not_when_it_posted(reviewer_client):
    first, second, third = make_queue("first", "second", "third")
    response = reviewer_client.post(decide_url(first), {"decision": "approved"})
    decide(approval_id=second.id, decision="approved", notes="", decided_by="someone-else")

    assert next_item_location(reviewer_client, response) == reverse("approval-detail", args=[third.id])


@pytest.mark.parametrize("after", ["", "not-a-uuid", "123"])
def test_the_next_item_url_without_a_valid_approval_id_is_not_found(reviewer_client, after):
    assert reviewer_client.get(reverse("approval-next"), {"after": after}).status_code == 404


def test_deciding_with_htmx_swaps_in_the_next_item_updates_the_count_and_confirms(reviewer_client):
    first, second, _ = make_queue("first-post", "second-post", "third-post")

    response = reviewer_client.post(decide_url(first), {"decision": "approved", "notes": ""}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body
    assert '<article id="review"' in body and '<h1 tabindex="-1">second-post' in body
    assert '<span id="queue-count" class="pending-count" hx-swap-oob="true"><strong>2</strong> pending' in body
    assert 'id="messages"' in body and 'hx-swap-oob="innerHTML"' in body
    assert "Approved first-post v1." in body
    assert response["HX-Push-Url"] == reverse("approval-detail", args=[second.id])
    assert state(first)[0] == "approved"


def test_deciding_the_last_item_with_htmx_shows_queue_empty(reviewer_client):
    (only,) = make_queue("only-post")

    response = reviewer_client.post(decide_url(only), {"decision": "rejected", "notes": "No."}, **HTMX)

    body = response.content.decode()
    assert '<h1 tabindex="-1">Queue empty</h1>' in body
    assert "<strong>0</strong> pending" in body
    assert response["HX-Push-Url"] == reverse("queue")


def test_a_decision_someone_else_made_first_is_reported_and_changes_nothing(reviewer_client):
    first, second = make_queue("contested", "next-one")
    decide(approval_id=first.id, decision="approved", notes="Mine.", decided_by="alice")
    before = state(first)

    response = reviewer_client.post(decide_url(first), {"decision": "rejected", "notes": "Too late."}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 409
    assert "This item was already approved by alice at" in body
    assert "Nothing was changed." in body
    assert "<strong>Approved</strong> by alice" in body  # the item as it now stands
    assert state(first) == before
    assert state(second)[0] == "pending"


def test_without_javascript_the_conflict_is_a_page_with_the_message(reviewer_client):
    (approval,) = make_queue("contested")
    decide(approval_id=approval.id, decision="rejected", notes="Redo.", decided_by="alice")

    response = reviewer_client.post(decide_url(approval), {"decision": "approved"})

    assert response.status_code == 409
    assert "already rejected by alice" in response.content.decode()
    assert state(approval)[:3] == ("rejected", "Redo.", "alice")


def test_a_rejection_needs_a_reason(reviewer_client):
    (approval,) = make_queue("post")

    response = reviewer_client.post(decide_url(approval), {"decision": "rejected", "notes": "   "}, **HTMX)

    body = response.content.decode()
    assert response.status_code == 422
    assert "A reason is required to reject" in body
    assert 'aria-invalid="true" autofocus' in body
    assert state(approval)[0] == "pending"


def test_notes_over_ten_thousand_characters_are_refused_with_a_message(reviewer_client):
    (approval,) = make_queue("post")

    response = reviewer_client.post(decide_url(approval), {"decision": "approved", "notes": "x" * 10_001})

    assert response.status_code == 422
    assert "Notes are limited to 10,000 characters (these have 10001)." in response.content.decode()
    assert state(approval)[0] == "pending"


def test_notes_of_exactly_ten_thousand_characters_counting_line_breaks_once_are_accepted(reviewer_client):
    (approval,) = make_queue("post")
    notes = ("y" * 99 + "\r\n") * 100  # 10,100 characters as sent, 10,000 once line breaks are normalised

    response = reviewer_client.post(decide_url(approval), {"decision": "approved", "notes": notes})

    assert response.status_code == 303
    assert len(state(approval)[1]) == 9_999  # the trailing line break is stripped


@pytest.mark.parametrize("decision", ["", "pending", "delete", "APPROVED"])
def test_an_unknown_decision_is_refused(reviewer_client, decision):
    (approval,) = make_queue("post")

    response = reviewer_client.post(decide_url(approval), {"decision": decision})

    assert response.status_code == 422
    assert "Choose Approve, Request changes or Reject." in response.content.decode()
    assert state(approval)[0] == "pending"


def test_a_decision_on_an_unknown_approval_is_404(reviewer_client):
    response = reviewer_client.post(
        reverse("approval-decide", args=["00000000-0000-4000-8000-000000000000"]), {"decision": "approved"}
    )
    assert response.status_code == 404


def test_a_get_to_decide_is_405_and_changes_nothing(reviewer_client):
    (approval,) = make_queue("post")

    response = reviewer_client.get(decide_url(approval), {"decision": "approved"})

    assert response.status_code == 405
    assert state(approval)[0] == "pending"


def test_a_post_without_the_csrf_token_is_403_and_changes_nothing(reviewer):
    (approval,) = make_queue("post")
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)

    response = client.post(decide_url(approval), {"decision": "approved"}, **HTMX)

    assert response.status_code == 403
    assert state(approval)[0] == "pending"


def test_the_csrf_token_in_the_htmx_header_is_accepted(reviewer):
    (approval,) = make_queue("post")
    client = Client(enforce_csrf_checks=True)
    client.force_login(reviewer)
    page = client.get(reverse("approval-detail", args=[approval.id]))
    token = page.cookies["csrftoken"].value
    assert '"X-CSRFToken": "' in page.content.decode()

    response = client.post(decide_url(approval), {"decision": "approved"}, HTTP_X_CSRFTOKEN=token, **HTMX)

    assert response.status_code == 200
    assert state(approval)[0] == "approved"


def test_every_decision_is_in_history_at_once(reviewer_client):
    approved, rejected = make_queue("approved-post", "rejected-post")
    reviewer_client.post(decide_url(approved), {"decision": "approved", "notes": "Nice."})
    reviewer_client.post(decide_url(rejected), {"decision": "rejected", "notes": "Shorter, please."})

    rows = reviewer_client.get(reverse("history")).content.decode().partition('<tbody id="history-rows">')[2]

    for text in ["approved-post", "Nice.", "rejected-post", "Shorter, please."]:
        assert text in rows

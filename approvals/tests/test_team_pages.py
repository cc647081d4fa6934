"""Claims and live updates on the reviewer pages: opening claims, markers, Next without JavaScript, the polls."""

import html
import json
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals import claims
from approvals.decisions import decide
from approvals.models import ReviewClaim
from approvals.tests.factories import make_pending_review, make_queue, make_reviewer

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def ana_client(db) -> Client:
    client = Client()
    client.force_login(make_reviewer("ana"))
    return client


def live_fingerprint(page: str, pattern: str) -> str:
    return re.search(pattern, page).group(1)


def test_opening_an_item_claims_it(reviewer_client):
    approval = make_pending_review()

    assert reviewer_client.get(reverse("approval-detail", args=[approval.id])).status_code == 200

    assert ReviewClaim.objects.get(approval_id=approval.id).claimant == "reviewer"


def test_the_queue_names_who_else_is_reviewing_a_row(reviewer_client, ana_client):
    mine, anas, free = make_queue(count=3)
    claims.claim(approval_id=mine.id, claimant="reviewer")
    claims.claim(approval_id=anas.id, claimant="ana")

    page = reviewer_client.get(reverse("queue")).content.decode()

    assert page.count("Reviewing: ") == 1
    assert re.search(rf'id="queue-row-{anas.artifact_id}".*?Reviewing: ana</span>', page, re.S)


def test_the_review_page_names_who_else_is_reviewing_it(reviewer_client):
    approval = make_pending_review()
    claims.claim(approval_id=approval.id, claimant="ana")

    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert "Reviewing: ana" in page
    assert ReviewClaim.objects.get(approval_id=approval.id).claimant == "ana"  # opening did not take it


def test_next_without_javascript_skips_an_item_someone_else_opened(reviewer_client, ana_client):
    first, second, third = make_queue(count=3)
    ana_client.get(reverse("approval-detail", args=[second.id]))

    response = reviewer_client.post(reverse("approval-decide", args=[first.id]), {"decision": "approved"})
    landed = reviewer_client.get(response["Location"])

    assert landed["Location"] == reverse("approval-detail", args=[third.id])
    assert ReviewClaim.objects.get(approval_id=third.id).claimant == "reviewer"


def test_the_item_shown_after_an_htmx_decision_skips_others_claims(reviewer_client, ana_client):
    first, second, third = make_queue(count=3)
    ana_client.get(reverse("approval-detail", args=[second.id]))

    response = reviewer_client.post(reverse("approval-decide", args=[first.id]), {"decision": "approved"}, **HTMX)

    assert response["HX-Push-Url"] == reverse("approval-detail", args=[third.id])
    assert ReviewClaim.objects.get(approval_id=third.id).claimant == "reviewer"


def test_the_next_link_on_a_review_page_skips_others_claims(reviewer_client):
    first, second, third = make_queue(count=3)
    claims.claim(approval_id=second.id, claimant="ana")

    page = reviewer_client.get(reverse("approval-detail", args=[first.id])).content.decode()

    assert f'href="{reverse("approval-detail", args=[third.id])}" rel="next"' in page


def heartbeat_of(page: str) -> dict:
    """What the review page's heartbeat posts (its hx-vals)."""
    return json.loads(html.unescape(re.search(r"hx-vals='([^']+)'", page).group(1)))


def test_the_heartbeat_renews_the_claim_and_leaving_releases_it(reviewer_client):
    approval = make_pending_review()
    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()
    ReviewClaim.objects.filter(approval_id=approval.id).update(expires_at=timezone.now() + timedelta(seconds=2))

    assert reviewer_client.post(reverse("approval-claim", args=[approval.id]), heartbeat_of(page)).status_code == 204
    claim = ReviewClaim.objects.get(approval_id=approval.id)
    assert claim.expires_at > timezone.now() + timedelta(minutes=4)

    assert reviewer_client.post(reverse("approval-release", args=[approval.id])).status_code == 204
    assert not ReviewClaim.objects.exists()


def test_a_heartbeat_claims_nothing_its_page_did_not_open(reviewer_client):
    opened, *others = make_queue(count=3)
    page = reviewer_client.get(reverse("approval-detail", args=[opened.id])).content.decode()
    token = heartbeat_of(page)

    for other in others:  # the heartbeat's own token, or none, on items this reviewer never opened
        assert reviewer_client.post(reverse("approval-claim", args=[other.id]), token).status_code == 403
        assert reviewer_client.post(reverse("approval-claim", args=[other.id])).status_code == 403

    assert list(ReviewClaim.objects.values_list("approval_id", flat=True)) == [opened.id]


def test_a_heartbeat_from_another_reviewers_page_claims_nothing(reviewer_client, client):
    approval = make_pending_review()
    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()
    ReviewClaim.objects.all().delete()
    client.force_login(make_reviewer("ana"))

    assert client.post(reverse("approval-claim", args=[approval.id]), heartbeat_of(page)).status_code == 403
    assert not ReviewClaim.objects.exists()


# --- the review page's live banner ------------------------------------------------------------------


def test_the_review_poll_answers_204_while_nothing_changed(reviewer_client):
    approval = make_pending_review()
    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()
    poll = live_fingerprint(page, r'hx-get="(/approvals/[^"]+/live/\?[^"]+)"').replace("&amp;", "&")

    response = reviewer_client.get(poll)

    assert response.status_code == 204
    assert response["Cache-Control"].startswith("max-age=0")


def test_the_review_poll_shows_another_reviewers_claim_and_decision(reviewer_client):
    approval = make_pending_review()
    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()
    poll = live_fingerprint(page, r'hx-get="(/approvals/[^"]+/live/\?[^"]+)"').replace("&amp;", "&")
    claims.release(approval_id=approval.id, claimant=None)
    claims.claim(approval_id=approval.id, claimant="ana")

    assert "Reviewing: ana" in reviewer_client.get(poll).content.decode()

    decide(approval_id=approval.id, decision="rejected", notes="Off brand.", decided_by="ana")
    banner = reviewer_client.get(poll).content.decode()
    assert "<strong>Rejected</strong> by ana" in banner
    assert "Reviewing:" not in banner
    assert "<textarea" not in banner  # the poll never touches the Notes field


# --- the queue's live rows ---------------------------------------------------------------------------


def queue_poll(client: Client, page: str):
    fingerprint = live_fingerprint(page, r'hx-vals=\'\{"fingerprint": "([0-9a-f]+)"\}\'')
    shown = re.findall(r'name="live" value="([0-9a-f-]+)"', page)
    return client.post(reverse("queue-live"), {"fingerprint": fingerprint, "live": shown})


def test_the_queue_poll_answers_204_while_nothing_changed(reviewer_client):
    make_queue(count=3)
    page = reviewer_client.get(reverse("queue")).content.decode()

    assert queue_poll(reviewer_client, page).status_code == 204


def test_the_queue_poll_swaps_the_rows_others_claimed_or_decided(reviewer_client):
    first, second, third = make_queue(count=3)
    page = reviewer_client.get(reverse("queue")).content.decode()
    claims.claim(approval_id=first.id, claimant="ana")
    decide(approval_id=second.id, decision="approved", notes="", decided_by="ana")

    update = queue_poll(reviewer_client, page).content.decode()

    assert re.search(
        rf'<tr id="queue-row-{first.artifact_id}" data-queue-row data-claimed hx-swap-oob="true">.*?Reviewing: ana',
        update,
        re.S,
    )
    assert f'<tr id="queue-row-{second.artifact_id}" class="queue-gone" hidden hx-swap-oob="true">' in update
    assert f'id="queue-row-{third.artifact_id}"' in update
    assert 'id="queue-live" hidden hx-swap-oob="true"' in update


def test_the_queue_poll_refuses_ids_that_are_not_uuids(reviewer_client):
    response = reviewer_client.post(reverse("queue-live"), {"fingerprint": "x", "live": ["not-a-uuid"]})

    assert response.status_code == 400
    assert b"artifact ids" in response.content

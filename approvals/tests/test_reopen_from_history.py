"""Reopen from History: who may (approvals.can_reopen, the Leads group, superusers), and what it does."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from approvals import claims
from approvals.decisions import decide
from approvals.models import Approval, ApprovalStatus, ReviewClaim
from approvals.plumbing.migrate_hooks import LEADS_GROUP
from approvals.tests.factories import make_pending_review, make_reviewer

pytestmark = pytest.mark.django_db


def decided() -> Approval:
    approval = make_pending_review(name="launch-post")
    decide(approval_id=approval.id, decision="rejected", notes="Too long.", decided_by="ana")
    return approval


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def lead(db) -> User:
    user = User.objects.create_user("lead", password="lead-pass-123")
    user.groups.add(Group.objects.get(name=LEADS_GROUP))
    return user


def test_migrate_creates_the_leads_group_with_review_reopen_and_analytics():
    codenames = set(Group.objects.get(name=LEADS_GROUP).permissions.values_list("codename", flat=True))
    assert codenames == {"can_review", "can_reopen", "view_analytics"}


def test_a_lead_reopens_a_decision_from_history(lead):
    approval = decided()
    client = client_for(lead)

    assert ">Reopen</button>" in client.get(reverse("history")).content.decode()
    response = client.post(reverse("approval-reopen", args=[approval.id]), follow=True)

    assert response.redirect_chain == [(reverse("history"), 303)]
    assert "Reopened: the item is pending again" in response.content.decode()
    assert Approval.objects.filter(artifact_id=approval.artifact_id, status=ApprovalStatus.PENDING).count() == 1


def test_a_superuser_may_reopen():
    approval = decided()
    admin = User.objects.create_superuser("boss", password="boss-pass-123")

    response = client_for(admin).post(reverse("approval-reopen", args=[approval.id]))

    assert response.status_code == 303
    assert Approval.objects.filter(artifact_id=approval.artifact_id, status=ApprovalStatus.PENDING).exists()


def test_a_reviewer_without_the_permission_sees_no_reopen_and_gets_403(reviewer_client):
    approval = decided()

    assert ">Reopen</button>" not in reviewer_client.get(reverse("history")).content.decode()
    response = reviewer_client.post(reverse("approval-reopen", args=[approval.id]))

    assert response.status_code == 403
    assert not Approval.objects.filter(status=ApprovalStatus.PENDING).exists()


def test_an_anonymous_reopen_goes_to_the_login_page(client):
    approval = decided()

    response = client.post(reverse("approval-reopen", args=[approval.id]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert not Approval.objects.filter(status=ApprovalStatus.PENDING).exists()


def test_reopening_twice_says_it_is_already_pending(lead):
    approval = decided()
    client = client_for(lead)
    client.post(reverse("approval-reopen", args=[approval.id]))

    response = client.post(reverse("approval-reopen", args=[approval.id]), follow=True)

    assert "already has a pending approval" in response.content.decode()
    assert Approval.objects.filter(artifact_id=approval.artifact_id, status=ApprovalStatus.PENDING).count() == 1


# --- claims in the admin ------------------------------------------------------------------------------


def test_staff_see_claims_and_release_them_in_the_admin():
    approval = make_pending_review(name="claimed-post")
    claims.claim(approval_id=approval.id, claimant="ana")
    make_reviewer("ana")
    client = client_for(User.objects.create_superuser("ops", password="ops-pass-123"))
    changelist = reverse("admin:approvals_reviewclaim_changelist")

    page = client.get(changelist).content.decode()
    assert "claimed-post" in page and "ana" in page

    response = client.post(
        changelist, {"action": "release_selected", "_selected_action": [str(approval.id)]}, follow=True
    )

    assert "Released 1 claim: ana on claimed-post v1." in response.content.decode()
    assert not ReviewClaim.objects.exists()

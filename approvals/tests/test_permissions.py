"""Who may see what: anonymous → login, logged in without the permission → a polite 403, reviewers in."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from approvals.models import Approval
from approvals.tests.factories import make_pending_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def approval():
    return make_pending_review(name="secret-draft")


def reviewer_pages(approval: Approval) -> list[str]:
    return [reverse("queue"), reverse("approval-detail", args=[approval.id]), reverse("history")]


def test_anonymous_visitors_are_sent_to_log_in(client, approval):
    for url in reviewer_pages(approval):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"


def test_an_anonymous_decision_is_sent_to_log_in_and_changes_nothing(client, approval):
    response = client.post(reverse("approval-decide", args=[approval.id]), {"decision": "approved"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_login_and_health_need_no_login(client):
    login = client.get(reverse("login"))
    assert login.status_code == 200
    body = login.content.decode()
    assert '<label for="id_username">Username</label>' in body
    assert '<label for="id_password">Password</label>' in body
    assert client.get(reverse("healthz")).status_code == 200


def test_a_user_without_the_permission_gets_a_polite_403(client, approval):
    client.force_login(User.objects.create_user("visitor", password="visitor-pass-123"))

    for url in reviewer_pages(approval):
        response = client.get(url)
        assert response.status_code == 403
        body = response.content.decode()
        assert "You don't have access to this page" in body
        assert "signed in as <strong>visitor</strong>" in body
        assert "Reviewers" in body
        assert "secret-draft" not in body

    response = client.post(reverse("approval-decide", args=[approval.id]), {"decision": "approved"})
    assert response.status_code == 403
    approval.refresh_from_db()
    assert approval.status == "pending"


def test_a_user_without_the_permission_cannot_fetch_a_partial_either(client, approval):
    client.force_login(User.objects.create_user("visitor", password="visitor-pass-123"))
    response = client.get(reverse("queue"), {"after": "1_00000000-0000-4000-8000-000000000000"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403


def test_reviewers_and_superusers_get_in(client, reviewer, approval):
    superuser = User.objects.create_superuser("root", password="root-pass-123")
    for user in (reviewer, superuser):
        client.force_login(user)
        for url in reviewer_pages(approval):
            assert client.get(url).status_code == 200


def test_only_staff_see_the_admin_link(client, reviewer):
    client.force_login(reviewer)
    assert 'href="/admin/"' not in client.get(reverse("queue")).content.decode()

    reviewer.is_staff = True
    reviewer.save()
    body = client.get(reverse("queue")).content.decode()
    assert '<a href="/admin/">Admin</a>' in body


def test_logging_in_leads_to_the_queue(client, reviewer):
    response = client.post(reverse("login"), {"username": "reviewer", "password": "review-pass-123"})

    assert response.status_code == 302
    assert response["Location"] == reverse("queue")


def test_a_wrong_password_is_refused_on_the_login_page(client, reviewer):
    response = client.post(reverse("login"), {"username": "reviewer", "password": "nope"})

    assert response.status_code == 200
    assert "Please enter a correct username and password." in response.content.decode()


def test_logging_out_is_a_post(reviewer_client):
    assert reviewer_client.get(reverse("logout")).status_code == 405

    response = reviewer_client.post(reverse("logout"))

    assert response.status_code == 302
    assert reviewer_client.get(reverse("queue")).status_code == 302  # logged out: back to login

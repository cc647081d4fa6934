"""The model backend that loads a user with their permissions: same answers as Django's, fewer queries."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.plumbing.auth_backend import OneQueryModelBackend
from approvals.tests.factories import make_reviewer

pytestmark = pytest.mark.django_db

BACKEND = OneQueryModelBackend()


def permission(codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label="approvals", codename=codename)


def test_permissions_through_a_group_and_directly_are_both_found():
    user = make_reviewer("both")
    user.user_permissions.add(permission("view_run"))

    loaded = BACKEND.get_user(user.id)

    assert BACKEND.has_perm(loaded, "approvals.can_review")  # through the Reviewers group
    assert BACKEND.has_perm(loaded, "approvals.view_run")  # given directly
    assert not BACKEND.has_perm(loaded, "approvals.change_run")
    assert BACKEND.get_all_permissions(loaded) == ModelBackend().get_all_permissions(User.objects.get(id=user.id))


def test_a_user_without_groups_or_permissions_has_none():
    user = User.objects.create_user("plain", password="plain-pass-123")
    assert BACKEND.get_all_permissions(BACKEND.get_user(user.id)) == set()


def test_a_superuser_has_every_permission():
    user = User.objects.create_superuser("root", password="root-pass-123")
    loaded = BACKEND.get_user(user.id)
    assert BACKEND.has_perm(loaded, "approvals.can_review")
    assert len(BACKEND.get_all_permissions(loaded)) == Permission.objects.count()


def test_an_inactive_or_missing_user_is_nobody():
    user = make_reviewer("gone")
    User.objects.filter(id=user.id).update(is_active=False)
    assert BACKEND.get_user(user.id) is None
    assert BACKEND.get_user(999_999_999) is None
    assert BACKEND.get_user("not-a-number") is None


def test_a_permission_taken_from_the_group_is_gone_on_the_next_request(client):
    user = make_reviewer("revoked")
    client.force_login(user)
    assert client.get(reverse("queue")).status_code == 200

    Group.objects.get(name="Reviewers").permissions.remove(permission("can_review"))

    assert client.get(reverse("queue")).status_code == 403


def test_a_reviewer_page_loads_the_user_and_the_permissions_in_one_query(client):
    client.force_login(make_reviewer("counted"))
    client.get(reverse("queue"))  # warm: content types, templates
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("queue"))
    auth_queries = [q["sql"] for q in queries.captured_queries if "auth_" in q["sql"]]
    assert len(auth_queries) == 1
    assert "auth_permission" in auth_queries[0] and "auth_user" in auth_queries[0]

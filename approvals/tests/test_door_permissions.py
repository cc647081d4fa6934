"""Every door to an action gives the same answer: the reviewer pages, their live polls, the files, History's
reopen, the admin's actions and analytics each let in a user with the action's permission and refuse one
without it, whatever else that user holds (approvals.permissions is the one rule they all ask)."""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from approvals.models import Approval, ApprovalStatus, ArtifactKind, Job, JobStatus
from approvals.tests.factories import make_artifact

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Door:
    permission: str  # codename in app approvals
    attempt: Callable[[Client, dict], bool]  # True when the user got through (and the action took effect)
    staff: bool = False
    reach: tuple[str, ...] = ()  # what a user needs to stand at this door at all (the admin's view permissions)
    # Permissions that grant the same thing, kept from the "without" user too.
    same_as: tuple[str, ...] = ()


def not_refused(method: str, url_of: Callable[[dict], str], data: dict | None = None):
    def attempt(client: Client, rows: dict) -> bool:
        response = getattr(client, method)(url_of(rows), data or {})
        assert not response.get("Location", "").startswith(reverse("login")), "signed-in users are answered"
        return response.status_code != 403

    return attempt


def heartbeat_of_the_opened_page(client: Client, rows: dict) -> bool:
    """The review page's heartbeat, with the token its page carries (none when the page was refused)."""
    page = client.get(reverse("approval-detail", args=[rows["pending"].pk])).content.decode()
    opened = re.search(r'"opened": "([^"]+)"', page)
    data = {"opened": opened.group(1)} if opened else {}
    return client.post(reverse("approval-claim", args=[rows["pending"].pk]), data).status_code != 403


def admin_action(model: str, action: str, took_effect: Callable[[dict], bool], row: str, **extra):
    def attempt(client: Client, rows: dict) -> bool:
        data = {"action": action, "_selected_action": [str(rows[row].pk)], **extra}
        response = client.post(reverse(f"admin:approvals_{model}_changelist"), data)
        assert response.status_code in (200, 302)
        return took_effect(rows)

    return attempt


def reopened(rows: dict) -> bool:
    return Approval.objects.filter(artifact_id=rows["rejected"].artifact_id, status=ApprovalStatus.PENDING).exists()


def decided_as(status: str) -> Callable[[dict], bool]:
    return lambda rows: Approval.objects.get(pk=rows["pending"].pk).status == status


def requeued(rows: dict) -> bool:
    return Job.objects.get(pk=rows["broken_job"].pk).status == JobStatus.QUEUED


def history_reopen(client: Client, rows: dict) -> bool:
    response = client.post(reverse("approval-reopen", args=[rows["rejected"].pk]))
    assert response.status_code in (303, 403)
    return reopened(rows)


def pending_url(name: str) -> Callable[[dict], str]:
    return lambda rows: reverse(name, args=[rows["pending"].pk])


def analytics(name: str) -> Door:
    return Door("view_analytics", not_refused("get", lambda rows: reverse(name)))


DOORS = {
    "queue": Door("can_review", not_refused("get", lambda rows: reverse("queue"))),
    "review page": Door("can_review", not_refused("get", pending_url("approval-detail"))),
    "decide": Door("can_review", not_refused("post", pending_url("approval-decide"), {"decision": "approved"})),
    "next": Door(
        "can_review", not_refused("get", lambda rows: f"{reverse('approval-next')}?after={rows['pending'].pk}")
    ),
    "history": Door("can_review", not_refused("get", lambda rows: reverse("history"))),
    "claim heartbeat": Door("can_review", heartbeat_of_the_opened_page),
    "release": Door("can_review", not_refused("post", pending_url("approval-release"))),
    "live status poll": Door("can_review", not_refused("get", pending_url("approval-live"))),
    "live queue poll": Door("can_review", not_refused("post", lambda rows: reverse("queue-live"), {"live": []})),
    "undo": Door("can_review", not_refused("post", pending_url("approval-undo"))),
    "edit check": Door("can_review", not_refused("post", pending_url("approval-edit-check"), {"edited_body": "x"})),
    "file": Door("can_review", not_refused("get", lambda rows: reverse("artifact-file", args=[rows["file"].pk]))),
    "thumbnail": Door(
        "can_review", not_refused("get", lambda rows: reverse("artifact-thumbnail", args=[rows["file"].pk]))
    ),
    "slide image": Door(
        "can_review", not_refused("get", lambda rows: reverse("slide-image", args=[rows["carousel"].pk, 0]))
    ),
    "admin approve action": Door(
        "can_review",
        admin_action("approval", "approve_selected", decided_as(ApprovalStatus.APPROVED), "pending", apply="1"),
        staff=True,
        reach=("view_approval",),
    ),
    "admin reject action": Door(
        "can_review",
        admin_action(
            "approval", "reject_selected", decided_as(ApprovalStatus.REJECTED), "pending", apply="1", notes="No."
        ),
        staff=True,
        reach=("view_approval",),
    ),
    "History reopen": Door("can_reopen", history_reopen),
    "admin reopen action": Door(
        "can_reopen",
        admin_action("approval", "reopen_selected", reopened, "rejected"),
        staff=True,
        reach=("view_approval",),
    ),
    "admin requeue action": Door(
        "change_job",
        admin_action("job", "requeue_failed_jobs", requeued, "broken_job"),
        staff=True,
        reach=("view_job",),
    ),
    "analytics: queue": analytics("analytics-queue"),
    "analytics: reviewers": analytics("analytics-reviewers"),
    "analytics: time to decision": analytics("analytics-time-to-decision"),
    "analytics: outcomes": analytics("analytics-outcomes"),
    "costs dashboard": Door(
        "view_run",
        not_refused("get", lambda rows: reverse("admin:approvals_run_costs")),
        staff=True,
        same_as=("change_run",),
    ),
}


def user_at(door: Door, *, granted: bool) -> User:
    """A user who can reach the door; with its permission, or with every other permission of the app."""
    user = User.objects.create_user(f"user-{granted}", password="door-pass-123", is_staff=door.staff)
    app = Permission.objects.filter(content_type__app_label="approvals")
    if granted:
        user.user_permissions.add(*app.filter(codename__in=[*door.reach, door.permission]))
    else:
        user.user_permissions.add(*app.exclude(codename__in=[door.permission, *door.same_as]))
    return user


@pytest.mark.parametrize("granted", [True, False], ids=["with the permission", "without it"])
@pytest.mark.parametrize("door", DOORS.values(), ids=DOORS.keys())
def test_every_door_gives_the_same_answer(client, ops_dataset, door, granted):
    rows = {
        **ops_dataset,
        "file": make_artifact(kind=ArtifactKind.FILE, mime_type="image/png"),
        "carousel": make_artifact(kind=ArtifactKind.JSON, body_json={"caption": "Hi", "slides": [{"image": "a.png"}]}),
    }
    client.force_login(user_at(door, granted=granted))

    assert door.attempt(client, rows) is granted


@pytest.mark.parametrize(
    ("url_name", "permission", "said"),
    [
        ("queue", "can_reopen", "needs the permission approvals.can_review"),
        ("analytics-queue", "can_review", "approvals.view_analytics"),
    ],
)
def test_a_refusal_says_which_permission_is_missing(client, url_name, permission, said):
    user = User.objects.create_user("partial", password="door-pass-123")
    user.user_permissions.add(Permission.objects.get(codename=permission))
    client.force_login(user)

    response = client.get(reverse(url_name))

    assert response.status_code == 403
    assert said in response.content.decode()


def test_a_reopen_refused_from_history_names_can_reopen(reviewer_client, ops_dataset):
    response = reviewer_client.post(reverse("approval-reopen", args=[ops_dataset["rejected"].pk]))

    assert response.status_code == 403
    assert "needs the permission approvals.can_reopen" in response.content.decode()

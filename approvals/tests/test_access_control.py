"""Who may do what: every URL × method × kind of user, and the status each must get.

Roles (docs/security.md): anonymous; a logged-in user without the reviewer
permission ("visitor"); a reviewer (group Reviewers); staff (a reviewer with
is_staff and view rights on the pipeline's tables, as ops are set up); a
superuser. The table is the specification: each cell is one test.
"""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission, User
from django.http import QueryDict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from approvals.models import Approval, ApprovalStatus, ArtifactKind, Job, Run
from approvals.team_views import opened_token
from approvals.tests.factories import make_artifact, make_pending_review, make_reviewer
from approvals.tests.sample_files import png_bytes

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "visitor", "reviewer", "staff", "superuser")
LOGIN, ADMIN_LOGIN = "login", "admin-login"


@dataclass
class Site:
    pending: Approval
    decided: Approval
    file_artifact_id: object
    job_id: object
    run_id: object
    carousel_artifact_id: object


@pytest.fixture
def site(local_bucket):
    pending = make_pending_review(name="launch-post")
    image = make_artifact(
        name="hero.png", kind=ArtifactKind.FILE, storage_path="proj/1/hero.png", mime_type="image/png"
    )
    local_bucket.put("proj/1/hero.png", png_bytes())
    decided = Approval.objects.create(
        artifact=image, status=ApprovalStatus.APPROVED, decided_by="alice", decided_at=timezone.now()
    )
    job = Job.objects.get(output_artifact=pending.artifact)
    slides = [{"image": "proj/1/hero.png"}]
    carousel = make_artifact(kind=ArtifactKind.JSON, body_json={"caption": "", "slides": slides})
    return Site(pending, decided, image.id, job.id, Run.objects.get(job=job).id, carousel.id)


def client_for(role: str) -> Client:
    client = Client()
    if role == "anonymous":
        return client
    if role == "visitor":
        user = User.objects.create_user("visitor", password="visitor-pass-123")
    elif role == "reviewer":
        user = make_reviewer("reviewer")
    elif role == "staff":
        user = make_reviewer("ops")
        user.is_staff = True
        user.save()
        user.user_permissions.set(
            Permission.objects.filter(content_type__app_label="approvals", codename__in=[f"view_{m}" for m in MODELS])
        )
    else:
        user = User.objects.create_superuser("root", password="root-pass-123")
    client.force_login(user)
    return client


USERNAMES = {"reviewer": "reviewer", "staff": "ops", "superuser": "root"}
MODELS = ("project", "artifact", "job", "approval", "run")

# URL name -> how to build it from the site.
URLS = {
    "queue": lambda s: reverse("queue"),
    "review": lambda s: reverse("approval-detail", args=[s.pending.id]),
    "decide": lambda s: reverse("approval-decide", args=[s.pending.id]),
    "next": lambda s: f"{reverse('approval-next')}?after={s.pending.id}",
    "history": lambda s: reverse("history"),
    "claim": lambda s: reverse("approval-claim", args=[s.pending.id]),
    "release": lambda s: reverse("approval-release", args=[s.pending.id]),
    "live": lambda s: reverse("approval-live", args=[s.pending.id]),
    "queue-live": lambda s: reverse("queue-live"),
    "undo": lambda s: reverse("approval-undo", args=[s.decided.id]),
    "reopen": lambda s: reverse("approval-reopen", args=[s.decided.id]),
    "file": lambda s: reverse("artifact-file", args=[s.file_artifact_id]),
    "thumbnail": lambda s: reverse("artifact-thumbnail", args=[s.file_artifact_id]),
    "slide": lambda s: reverse("slide-image", args=[s.carousel_artifact_id, 0]),
    "edit-check": lambda s: reverse("approval-edit-check", args=[s.pending.id]),
    "healthz": lambda s: reverse("healthz"),
    "login": lambda s: reverse("login"),
    "logout": lambda s: reverse("logout"),
    "admin": lambda s: reverse("admin:index"),
    "costs": lambda s: reverse("admin:approvals_run_costs"),
    **{f"admin-{m}-list": (lambda s, m=m: reverse(f"admin:approvals_{m}_changelist")) for m in MODELS},
    "admin-project-change": lambda s: reverse("admin:approvals_project_change", args=[s.pending.artifact.project_id]),
    "admin-artifact-change": lambda s: reverse("admin:approvals_artifact_change", args=[s.pending.artifact_id]),
    "admin-job-change": lambda s: reverse("admin:approvals_job_change", args=[s.job_id]),
    "admin-approval-change": lambda s: reverse("admin:approvals_approval_change", args=[s.decided.id]),
    "admin-run-change": lambda s: reverse("admin:approvals_run_change", args=[s.run_id]),
}
REVIEWER_PAGES = {"queue", "review", "history", "file", "thumbnail", "slide"}
ADMIN_PAGES = {name for name in URLS if name.startswith("admin") or name == "costs"}


def expected(role: str, name: str, method: str):
    """The status (or redirect target) each role must get."""
    reviewer = role in ("reviewer", "staff", "superuser")
    staff = role in ("staff", "superuser")
    if name == "healthz":
        return 200 if method == "GET" else 405
    if name == "login":
        return 200  # the form (a POST without credentials shows its errors)
    if name == "logout":
        if method == "POST":
            return 302
        return LOGIN if role == "anonymous" else 405
    if name in ADMIN_PAGES:
        if role == "anonymous" and name != "admin":
            return LOGIN  # the site-wide login requirement answers before the admin does
        if not staff:
            return ADMIN_LOGIN
        if method == "POST" and name.endswith("-change") and role == "staff":
            return 403  # view rights only: the change form cannot be posted
        if method == "POST" and name == "admin-approval-change":
            return 403  # decisions are never edited in place, not even by a superuser
        return 200  # a superuser's empty change form comes back with its errors, unsaved
    if role == "anonymous":
        return LOGIN
    if name == "reopen":  # approvals.can_reopen: Leads and superusers
        if role != "superuser":
            return 403
        return 303 if method == "POST" else 405
    if not reviewer:
        return 403
    if name in ("claim", "release"):
        return 204 if method == "POST" else 405
    if name == "live":
        return 200 if method == "GET" else 405
    if name == "queue-live":
        return 200 if method == "POST" else 405
    if name == "undo":  # not the decider's, so refused with a message and a redirect
        return 303 if method == "POST" else 405
    if name == "decide":
        return 303 if method == "POST" else 405
    if name == "next":
        return 302 if method == "GET" else 405
    if name == "edit-check":
        return 200 if method == "POST" else 405
    if name in REVIEWER_PAGES:
        return 200 if method == "GET" else 405
    raise AssertionError(f"no expectation for {name}")


CASES = [(role, name, method) for role in ROLES for name in URLS for method in ("GET", "POST")]


@pytest.mark.parametrize(("role", "name", "method"), CASES, ids=["-".join(case) for case in CASES])
def test_access(site, role, name, method):
    client = client_for(role)
    url = URLS[name](site)
    data = {"decision": "approved", "notes": "ok"} if name == "decide" else {}
    if name == "claim" and role in USERNAMES:  # the heartbeat of a page this user opened
        data = {"opened": opened_token(approval_id=site.pending.id, username=USERNAMES[role])}

    response = client.get(url) if method == "GET" else client.post(url, data)

    want = expected(role, name, method)
    if want == LOGIN:
        next_query = QueryDict(mutable=True)
        next_query["next"] = url
        assert (response.status_code, response["Location"]) == (302, f"{reverse('login')}?{next_query.urlencode('/')}")
    elif want == ADMIN_LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(f"{reverse('admin:login')}?next=")
    else:
        assert response.status_code == want
    site.pending.refresh_from_db()
    decided_now = site.pending.status != ApprovalStatus.PENDING
    assert decided_now == (want == 303 and name == "decide")  # only an allowed decision changes anything


def test_a_decision_without_the_csrf_token_is_refused(site):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_reviewer("reviewer"))

    response = client.post(reverse("approval-decide", args=[site.pending.id]), {"decision": "approved"})

    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    site.pending.refresh_from_db()
    assert site.pending.status == ApprovalStatus.PENDING


def test_a_session_ends_at_logout_on_the_server_too(site):
    client = client_for("reviewer")
    session_key = client.cookies["sessionid"].value
    client.post(reverse("logout"))

    replay = Client()
    replay.cookies["sessionid"] = session_key  # a copy of the old cookie, taken before logout
    assert replay.get(reverse("queue")).status_code == 302

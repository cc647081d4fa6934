"""Fixtures for the ops console's tests: a staff client and a small pipeline dataset."""

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from approvals.models import Approval, ApprovalStatus, ArtifactKind, Job, JobStatus
from approvals.tests.factories import make_artifact, make_job, make_pending_review, make_project, make_run


@pytest.fixture
def ops_client(client):
    user = User.objects.create_superuser("ops", password="ops-pass-123")
    client.force_login(user)
    return client


@pytest.fixture
def ops_dataset():
    project = make_project(name="Northwind Coffee — Spring launch")
    pending = make_pending_review(project=project, name="spring-hero-post")
    approved_artifact = make_artifact(project=project, name="spring-spec", kind=ArtifactKind.JSON)
    approved_job = make_job(output_artifact=approved_artifact, status=JobStatus.DONE)
    make_run(job=approved_job, model="claude-3-5-sonnet", cost_usd="0.012000")
    approved = Approval.objects.create(
        artifact=approved_artifact, status=ApprovalStatus.APPROVED, decided_by="alice", decided_at=timezone.now()
    )
    rejected_artifact = make_artifact(
        project=project, name="spring-teaser.mp4", kind=ArtifactKind.FILE, mime_type="video/mp4", size_bytes=4096
    )
    rejected_job = make_job(output_artifact=rejected_artifact, status=JobStatus.FAILED)
    Job.objects.filter(pk=rejected_job.pk).update(error="Rejected by bob: too long", attempts=2)
    rejected = Approval.objects.create(
        artifact=rejected_artifact,
        status=ApprovalStatus.REJECTED,
        notes="too long",
        decided_by="bob",
        decided_at=timezone.now(),
    )
    revision = make_artifact(
        project=project, name="spring-teaser.mp4", kind=ArtifactKind.FILE, version=2, previous_version=rejected_artifact
    )
    broken_job = Job.objects.create(
        kind="publish_post", status=JobStatus.FAILED, input_artifact=approved_artifact, error="Provider timeout"
    )
    return {
        "project": project,
        "pending": pending,
        "approved": approved,
        "rejected": rejected,
        "revision": revision,
        "approved_job": approved_job,
        "rejected_job": rejected_job,
        "broken_job": broken_job,
        "pending_job": Job.objects.get(output_artifact=pending.artifact),
    }

"""Small factories that insert rows as the pipeline would."""

import itertools
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.utils import timezone

from approvals.models import Approval, Artifact, ArtifactKind, Job, JobStatus, Project, Run
from approvals.plumbing.migrate_hooks import REVIEWERS_GROUP

_sequence = itertools.count(1)


def make_project(*, name: str | None = None, description: str = "") -> Project:
    return Project.objects.create(name=name or f"Project {next(_sequence)}", description=description)


def make_artifact(
    *,
    project: Project | None = None,
    name: str | None = None,
    kind: str = ArtifactKind.TEXT,
    body_text: str | None = None,
    body_json=None,
    storage_path: str | None = None,
    mime_type: str | None = None,
    size_bytes: int | None = None,
    version: int = 1,
    previous_version: Artifact | None = None,
    metadata: dict | None = None,
) -> Artifact:
    if kind == ArtifactKind.TEXT and body_text is None:
        body_text = "Draft post: launch day is here."
    if kind == ArtifactKind.JSON and body_json is None:
        body_json = {"platform": "linkedin", "hashtags": ["#launch"]}
    if kind == ArtifactKind.FILE and storage_path is None:
        storage_path = f"proj/{next(_sequence)}/file.bin"
    return Artifact.objects.create(
        project=project or make_project(),
        name=name or f"artifact-{next(_sequence)}",
        kind=kind,
        body_text=body_text,
        body_json=body_json,
        storage_path=storage_path,
        mime_type=mime_type,
        size_bytes=size_bytes,
        version=version,
        previous_version=previous_version,
        metadata=metadata or {},
    )


def make_job(
    *, output_artifact: Artifact | None = None, status: str = JobStatus.NEEDS_APPROVAL, kind: str = "draft_post"
) -> Job:
    return Job.objects.create(kind=kind, status=status, output_artifact=output_artifact)


def make_run(
    *,
    job: Job,
    model: str = "gpt-4o-mini",
    prompt_tokens: int = 1200,
    completion_tokens: int = 300,
    duration_ms: int | None = 2100,
    cost_usd: Decimal | str | None = "0.000360",
) -> Run:
    return Run.objects.create(
        job=job,
        model=model,
        provider="openai",
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        duration_ms=duration_ms,
        cost_usd=Decimal(cost_usd) if cost_usd is not None else None,
    )


def make_pending_review(*, artifact: Artifact | None = None, with_run: bool = True, **artifact_fields) -> Approval:
    """An artifact waiting for review: its job in needs_approval, a run, a pending approval."""
    artifact = artifact or make_artifact(**artifact_fields)
    job = make_job(output_artifact=artifact)
    if with_run:
        make_run(job=job)
    return Approval.objects.create(artifact=artifact)


def make_queue(*names: str, count: int = 0) -> list[Approval]:
    """Pending items named `names` (or `count` items named item-0, item-1, ...), created oldest first,
    one hour apart, so the queue's order is theirs."""
    names = names or tuple(f"item-{index}" for index in range(count))
    approvals = []
    for index, name in enumerate(names):
        approval = make_pending_review(name=name)
        Approval.objects.filter(id=approval.id).update(created_at=timezone.now() - timedelta(hours=10 - index))
        approvals.append(approval)
    return approvals


def make_reviewer(username: str = "reviewer", *, password: str = "review-pass-123") -> User:
    user = User.objects.create_user(username=username, password=password)
    user.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    return user

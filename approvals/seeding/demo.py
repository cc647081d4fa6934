"""A small, believable demo dataset with every kind a reviewer meets: what `manage.py seed_demo` loads.

Demo rows live under three projects with fixed ids and demo files under the
bucket prefix `demo/`, so `seed_demo --reset` removes exactly them and leaves
everything else alone.
"""

import secrets
import uuid
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from approvals.files.previews import TEXT_PREVIEW_LIMIT
from approvals.models import Approval, ApprovalStatus, Artifact, ArtifactKind, Job, JobStatus, Project, Run
from approvals.plumbing.migrate_hooks import REVIEWERS_GROUP
from approvals.seeding import demo_content, demo_files

DEMO_USERNAME = "demo"
DEMO_FILES_PREFIX = "demo"
# Fixed ids: how `--reset` tells demo rows from real ones.
_DEMO_NAMESPACE = uuid.UUID("5f1d7c52-3f0e-4a55-9a7c-2f61a0d5e001")
DEMO_PROJECTS = {
    name: (uuid.uuid5(_DEMO_NAMESPACE, name), description)
    for name, description in [
        ("Spring launch", "Posts and visuals for the spring launch."),
        ("Weekly newsletter", "Intro copy and schedules."),
        ("Brand refresh", "New look across channels."),
    ]
}
NESTED_JSON_DEPTH = 50

# (model, provider, USD per million prompt tokens, per million completion tokens)
MODELS = [
    ("gpt-4o-mini", "openai", Decimal("0.15"), Decimal("0.60")),
    ("claude-3-5-sonnet", "anthropic", Decimal("3.00"), Decimal("15.00")),
    ("gemini-1.5-pro", "google", Decimal("1.25"), Decimal("5.00")),
]


def ensure_demo_reviewer(password_file) -> tuple[str, str | None]:
    """Create the demo reviewer once, with a random password kept only in var/."""
    user = User.objects.filter(username=DEMO_USERNAME).first()
    if user is not None:
        saved = password_file.read_text().strip() if password_file.exists() else None
        return DEMO_USERNAME, saved
    password = secrets.token_urlsafe(12)
    user = User.objects.create_user(username=DEMO_USERNAME, password=password, first_name="Demo")
    user.groups.add(Group.objects.get(name=REVIEWERS_GROUP))
    password_file.parent.mkdir(parents=True, exist_ok=True)
    password_file.write_text(password + "\n")
    password_file.chmod(0o600)
    return DEMO_USERNAME, password


class DemoBuilder:
    def __init__(self):
        self.now = timezone.now()
        self.storage = storages["default"]
        self.count = 0

    def _age(self) -> timezone.datetime:
        # Spread creation times over the last day and a half, so the queue shows a range of waits.
        self.count += 1
        return self.now - timedelta(minutes=60 * 36 - 29 * self.count)

    def job_with_runs(self, artifact: Artifact, *, kind: str, status: str, runs: int = 1, error: str | None = None):
        created = artifact.created_at
        job = Job.objects.create(
            kind=kind,
            status=status,
            output_artifact=artifact,
            params={"tone": "friendly", "max_length": 280},
            attempts=1 if status != JobStatus.QUEUED else 0,
            error=error,
            started_at=None if status == JobStatus.QUEUED else created - timedelta(seconds=40),
            finished_at=created if status in (JobStatus.DONE, JobStatus.FAILED) else None,
            created_at=created - timedelta(minutes=1),
        )
        for index in range(runs):
            model, provider, prompt_price, completion_price = MODELS[(self.count + index) % len(MODELS)]
            prompt_tokens = 800 + 137 * ((self.count + index) % 11)
            completion_tokens = 150 + 61 * ((self.count + 3 * index) % 7)
            cost = (prompt_tokens * prompt_price + completion_tokens * completion_price) / Decimal(1_000_000)
            Run.objects.create(
                job=job,
                model=model,
                provider=provider,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                duration_ms=900 + 173 * ((self.count + index) % 13),
                cost_usd=cost.quantize(Decimal("0.000001")),
                created_at=created - timedelta(seconds=30 - index),
            )
        return job

    def artifact(self, project: Project, **fields) -> Artifact:
        created = self._age()
        return Artifact.objects.create(project=project, created_at=created, updated_at=created, **fields)

    def pending(self, project: Project, *, job_kind: str = "draft_post", runs: int = 1, **fields) -> Artifact:
        """An artifact waiting for review, as the pipeline leaves it: job in needs_approval, a pending approval."""
        artifact = self.artifact(project, **fields)
        self.job_with_runs(artifact, kind=job_kind, status=JobStatus.NEEDS_APPROVAL, runs=runs)
        Approval.objects.create(artifact=artifact)
        return artifact

    def rejected(self, artifact: Artifact, *, by: str, notes: str) -> None:
        self.job_with_runs(artifact, kind="draft_post", status=JobStatus.FAILED, error=f"Rejected by {by}: {notes}")
        Approval.objects.create(
            artifact=artifact,
            status=ApprovalStatus.REJECTED,
            decided_by=by,
            decided_at=artifact.created_at + timedelta(minutes=20),
            notes=notes,
        )

    def save_file(self, project: Project, name: str, data: bytes) -> str:
        return self.storage.save(f"{DEMO_FILES_PREFIX}/{project.id}/{name}", ContentFile(data))

    def pending_file(self, project: Project, name: str, data: bytes, *, mime: str, **metadata) -> Artifact:
        path = self.save_file(project, name, data)
        return self.pending(
            project,
            job_kind="render_asset",
            name=name,
            kind=ArtifactKind.FILE,
            storage_path=path,
            mime_type=mime,
            size_bytes=len(data),
            metadata=metadata,
        )

    def build(self) -> int:
        launch, newsletter, brand = (
            Project.objects.create(id=project_id, name=name, description=description)
            for name, (project_id, description) in DEMO_PROJECTS.items()
        )
        self.revision_story(launch)
        self.posts_and_specs([launch, newsletter, brand])
        self.images([launch, newsletter, brand])
        self.files_of_every_kind(brand)
        self.edge_cases(newsletter)
        self.video_script_v3(launch)
        self.history_and_pipeline(newsletter, brand)
        # Each review was requested when its artifact arrived, so the queue shows a range of waits.
        Approval.objects.filter(artifact__project__in=[launch, newsletter, brand]).update(
            created_at=Subquery(Artifact.objects.filter(id=OuterRef("artifact_id")).values("created_at"))
        )
        return Approval.objects.filter(
            status=ApprovalStatus.PENDING, artifact__project__in=[launch, newsletter, brand]
        ).count()

    def revision_story(self, launch: Project) -> None:
        """v1 rejected with a reason, v2 waiting: the oldest item in the queue."""
        first = self.artifact(
            launch,
            name="launch-announcement",
            kind=ArtifactKind.TEXT,
            body_text="Flow is launching today. It is a tool. Try it.",
            metadata={"platform": "linkedin", "prompt": "Announce the launch"},
        )
        self.rejected(first, by="alex", notes="Too flat. Lead with the customer benefit.")
        self.pending(
            launch,
            runs=2,
            name="launch-announcement",
            kind=ArtifactKind.TEXT,
            version=2,
            previous_version=first,
            body_text="Spend less time planning posts and more time talking to customers.\n"
            "Flow is launching today: try it free for 30 days.",
            metadata={"platform": "linkedin", "prompt": "Announce the launch, benefit first"},
        )

    def posts_and_specs(self, projects: list[Project]) -> None:
        for index, (name, platform, body) in enumerate(demo_content.SOCIAL_POSTS):
            metadata = {"platform": platform} if platform else {"channel": "newsletter"}
            self.pending(
                projects[index % 3],
                name=name,
                kind=ArtifactKind.TEXT,
                body_text=body,
                mime_type="text/plain",
                metadata=metadata,
            )
        for index, (name, value) in enumerate(demo_content.JSON_SPECS):
            self.pending(
                projects[(index + 1) % 3],
                job_kind="plan_campaign",
                name=name,
                kind=ArtifactKind.JSON,
                body_json=value,
                mime_type="application/json",
                metadata={"schema": "flow/v1"},
            )
        self.pending(
            projects[0],
            name="x-launch-thread",
            kind=ArtifactKind.JSON,
            body_json=demo_content.X_THREAD,
            metadata={"platform": "x"},
        )
        slides = [
            {
                "image": self.save_file(projects[0], f"{name}.png", demo_files.gradient_png(size, start, end, caption)),
                "alt": alt,
            }
            for name, size, start, end, caption, alt in demo_content.CAROUSEL_SLIDES
        ]
        self.pending(
            projects[0],
            job_kind="plan_campaign",
            name="spring-carousel",
            kind=ArtifactKind.JSON,
            body_json={"caption": demo_content.CAROUSEL_CAPTION, "slides": slides},
            metadata={"platform": "instagram"},
        )

    def images(self, projects: list[Project]) -> None:
        for index, (name, size, start, end, caption) in enumerate(demo_content.IMAGES):
            png = demo_files.gradient_png(size, start, end, caption)
            self.pending_file(
                projects[index % 3], f"{name}.png", png, mime="image/png", width=size[0], height=size[1], prompt=caption
            )

    def files_of_every_kind(self, brand: Project) -> None:
        self.pending_file(brand, "spring-teaser.webm", demo_files.teaser_webm(), mime="video/webm", seconds=4)
        self.pending_file(brand, "podcast-jingle.wav", demo_files.jingle_wav(), mime="audio/wav", seconds=2)
        kit = demo_files.media_kit_pdf(["Flow media kit", "Spring launch 2026", "Logo, colours, tone of voice"])
        self.pending_file(brand, "media-kit.pdf", kit, mime="application/pdf", pages=1)
        self.pending_file(brand, "campaign-results.csv", demo_files.CAMPAIGN_CSV.encode(), mime="text/csv")
        self.pending_file(brand, "launch-plan.md", demo_files.LAUNCH_PLAN_MD.encode(), mime="text/markdown")
        self.pending_file(brand, "logo-mark.svg", demo_files.LOGO_SVG.encode(), mime="image/svg+xml")
        self.pending_file(brand, "landing-page.html", demo_files.LANDING_HTML.encode(), mime="text/html")
        self.pending_file(
            brand, "brand-assets.flowdesign", demo_files.brand_assets_bin(), mime="application/octet-stream"
        )

    def edge_cases(self, newsletter: Project) -> None:
        """What the previews must bound or explain: a long text, a deep JSON, a file missing from storage."""
        transcript = demo_files.long_transcript(TEXT_PREVIEW_LIMIT + 20_000)
        self.pending(
            newsletter, name="webinar-transcript", kind=ArtifactKind.TEXT, body_text=transcript, mime_type="text/plain"
        )
        self.pending(
            newsletter,
            job_kind="plan_campaign",
            name="campaign-brief-nested",
            kind=ArtifactKind.JSON,
            body_json=demo_files.nested_brief(NESTED_JSON_DEPTH),
            metadata={"depth": NESTED_JSON_DEPTH},
        )
        self.pending(
            newsletter,
            job_kind="render_asset",
            name="press-release-final.pdf",
            kind=ArtifactKind.FILE,
            # Never written to the bucket: the page shows "File missing from storage".
            storage_path=f"{DEMO_FILES_PREFIX}/{newsletter.id}/press-release-final.pdf",
            mime_type="application/pdf",
            size_bytes=48_213,
        )

    def video_script_v3(self, launch: Project) -> None:
        previous = None
        for version, (text, rejection) in enumerate(demo_content.VIDEO_SCRIPT_VERSIONS, start=1):
            fields = {"name": "teaser-video-script", "kind": ArtifactKind.TEXT, "body_text": text, "version": version}
            fields |= {"previous_version": previous, "metadata": {"format": "15 s vertical video"}}
            if rejection:
                previous = self.artifact(launch, **fields)
                self.rejected(previous, by=("alex", "sam")[version % 2], notes=rejection)
            else:
                self.pending(launch, **fields)

    def history_and_pipeline(self, newsletter: Project, brand: Project) -> None:
        """An approved post for History, and jobs in every other status."""
        approved = self.artifact(
            newsletter,
            name="newsletter-subject-lines",
            kind=ArtifactKind.JSON,
            body_json=["Your week, planned", "Five posts, one coffee"],
        )
        self.job_with_runs(approved, kind="plan_campaign", status=JobStatus.DONE)
        Approval.objects.create(
            artifact=approved,
            status=ApprovalStatus.APPROVED,
            decided_by="sam",
            decided_at=approved.created_at + timedelta(minutes=5),
            notes="Ship the first one.",
        )
        upcoming = self.artifact(
            brand, name="brand-voice-brief", kind=ArtifactKind.TEXT, body_text="Warm, direct, never cute."
        )
        Job.objects.create(kind="draft_post", status=JobStatus.QUEUED, input_artifact=upcoming)
        running = Job.objects.create(
            kind="render_image",
            status=JobStatus.RUNNING,
            input_artifact=upcoming,
            attempts=1,
            started_at=self.now - timedelta(minutes=2),
        )
        Run.objects.create(job=running, model="gpt-4o-mini", provider="openai", prompt_tokens=420)
        Job.objects.create(
            kind="render_video",
            status=JobStatus.FAILED,
            input_artifact=upcoming,
            attempts=3,
            error="Provider timeout after 3 attempts",
            started_at=self.now - timedelta(hours=1),
            finished_at=self.now - timedelta(minutes=50),
        )


def _demo_project_ids() -> list[uuid.UUID]:
    """The demo's projects: by their fixed ids, or (seeded before ids were fixed) by name and description."""
    same_text = Q()
    for name, (_, description) in DEMO_PROJECTS.items():
        same_text |= Q(name=name, description=description)
    fixed = [project_id for project_id, _ in DEMO_PROJECTS.values()]
    return list(Project.objects.filter(Q(id__in=fixed) | same_text).values_list("id", flat=True))


def _delete_demo_files(storage, folder: str) -> int:
    """Every object under the demo prefix (the files seed_demo wrote); nothing else is touched."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return 0
    for name in files:
        storage.delete(f"{folder}/{name}")
    return len(files) + sum(_delete_demo_files(storage, f"{folder}/{sub}") for sub in folders)


def remove_demo_data() -> int:
    """Delete the demo projects with everything under them, and the demo files; returns the artifacts removed."""
    projects = _demo_project_ids()
    with transaction.atomic():
        removed = Artifact.objects.filter(project_id__in=projects).count()
        # Jobs point at artifacts with ON DELETE SET NULL: delete them first (their runs go with them).
        Job.objects.filter(
            Q(input_artifact__project_id__in=projects) | Q(output_artifact__project_id__in=projects)
        ).delete()
        Project.objects.filter(id__in=projects).delete()  # artifacts and approvals cascade
    _delete_demo_files(storages["default"], DEMO_FILES_PREFIX)
    return removed


def load_demo_data(*, reset: bool = False) -> int | None:
    """Load the demo into empty tables (or, with reset, replace the demo alone); the pending count, or None."""
    if reset:
        remove_demo_data()
    elif Project.objects.exists():
        return None
    with transaction.atomic():
        return DemoBuilder().build()

"""A small, believable demo dataset: what `manage.py seed_demo` loads into empty tables."""

import io
import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from PIL import Image, ImageDraw

from approvals.models import Approval, ApprovalStatus, Artifact, ArtifactKind, Job, JobStatus, Project, Run
from approvals.plumbing.migrate_hooks import REVIEWERS_GROUP

DEMO_USERNAME = "demo"

# (model, provider, USD per million prompt tokens, per million completion tokens)
MODELS = [
    ("gpt-4o-mini", "openai", Decimal("0.15"), Decimal("0.60")),
    ("claude-3-5-sonnet", "anthropic", Decimal("3.00"), Decimal("15.00")),
    ("gemini-1.5-pro", "google", Decimal("1.25"), Decimal("5.00")),
]

TEXT_POSTS = [
    (
        "linkedin-launch-post",
        "We're live! After 18 months of building, Flow ships today.\n\n"
        "Three things we learned:\n1. Talk to users weekly.\n2. Ship small.\n3. Measure what matters.\n\n"
        "#launch #startups",
    ),
    (
        "x-thread-teaser",
        "Big news tomorrow at 9am PT. Here's a hint: your content calendar is about to get a lot lighter. 🧵 1/5",
    ),
    (
        "newsletter-intro",
        "Hello friends,\n\nThis week we look at how small teams plan a month of posts in an "
        "afternoon, and why the best captions are written last.",
    ),
    ("instagram-caption", "Behind the scenes of our spring shoot 🌸 Swipe to meet the team who made it happen."),
]

JSON_SPECS = [
    (
        "carousel-spec",
        {
            "platform": "instagram",
            "slides": [
                {"headline": "Plan", "image": "plan.png"},
                {"headline": "Draft", "image": "draft.png"},
                {"headline": "Ship", "image": "ship.png"},
            ],
            "hashtags": ["#workflow", "#content"],
        },
    ),
    (
        "posting-schedule",
        {"timezone": "Europe/Berlin", "slots": ["Mon 09:00", "Wed 12:30", "Fri 16:00"], "channels": ["linkedin", "x"]},
    ),
    ("ab-test-headlines", ["Ship content 3x faster", "Your calendar, handled", "Less planning, more posting"]),
]

IMAGES = [
    ("hero-banner", (1200, 628), (37, 99, 235), (147, 51, 234), "Spring Launch"),
    ("square-teaser", (1080, 1080), (16, 185, 129), (5, 150, 105), "Coming soon"),
    ("story-cover", (540, 960), (249, 115, 22), (220, 38, 38), "Behind the scenes"),
]


def demo_image_png(size: tuple[int, int], start: tuple, end: tuple, caption: str) -> bytes:
    width, height = size
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / max(height - 1, 1)
        draw.line([(0, y), (width, y)], fill=tuple(round(a + (b - a) * t) for a, b in zip(start, end, strict=True)))
    draw.rectangle([width * 0.08, height * 0.4, width * 0.92, height * 0.6], outline="white", width=6)
    draw.text((width * 0.12, height * 0.47), caption, fill="white", font_size=max(24, width // 14))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


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
        self.minute = 0

    def _age(self) -> timezone.datetime:
        # Spread creation times so the queue shows a range of waits.
        self.minute += 47
        return self.now - timedelta(minutes=60 * 30 - self.minute)

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
            model, provider, prompt_price, completion_price = MODELS[(self.minute // 47 + index) % len(MODELS)]
            prompt_tokens = 800 + 137 * ((self.minute + index) % 11)
            completion_tokens = 150 + 61 * ((self.minute + 3 * index) % 7)
            cost = (prompt_tokens * prompt_price + completion_tokens * completion_price) / Decimal(1_000_000)
            Run.objects.create(
                job=job,
                model=model,
                provider=provider,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
                duration_ms=900 + 173 * ((self.minute + index) % 13),
                cost_usd=cost.quantize(Decimal("0.000001")),
                created_at=created - timedelta(seconds=30 - index),
            )
        return job

    def artifact(self, project: Project, **fields) -> Artifact:
        created = self._age()
        return Artifact.objects.create(project=project, created_at=created, updated_at=created, **fields)

    def build(self) -> int:
        launch = Project.objects.create(name="Spring launch", description="Posts and visuals for the spring launch.")
        newsletter = Project.objects.create(name="Weekly newsletter", description="Intro copy and schedules.")
        brand = Project.objects.create(name="Brand refresh", description="New look across channels.")
        projects = [launch, newsletter, brand]

        # A revision story: v1 rejected with a reason, v2 waiting for review.
        first = self.artifact(
            launch,
            name="launch-announcement",
            kind=ArtifactKind.TEXT,
            body_text="Flow is launching today. It is a tool. Try it.",
            metadata={"platform": "linkedin", "prompt": "Announce the launch"},
        )
        self.job_with_runs(
            first,
            kind="draft_post",
            status=JobStatus.FAILED,
            error="Rejected by alex: Too flat. Lead with the customer benefit.",
        )
        Approval.objects.create(
            artifact=first,
            status=ApprovalStatus.REJECTED,
            decided_by="alex",
            decided_at=first.created_at + timedelta(minutes=20),
            notes="Too flat. Lead with the customer benefit.",
        )
        second = self.artifact(
            launch,
            name="launch-announcement",
            kind=ArtifactKind.TEXT,
            version=2,
            previous_version=first,
            body_text="Spend less time planning posts and more time talking to customers.\n"
            "Flow is launching today: try it free for 30 days.",
            metadata={"platform": "linkedin", "prompt": "Announce the launch, benefit first"},
        )
        self.job_with_runs(second, kind="draft_post", status=JobStatus.NEEDS_APPROVAL, runs=2)
        Approval.objects.create(artifact=second)

        for index, (name, body) in enumerate(TEXT_POSTS):
            artifact = self.artifact(
                projects[index % 3],
                name=name,
                kind=ArtifactKind.TEXT,
                body_text=body,
                mime_type="text/plain",
                metadata={"platform": name.split("-")[0]},
            )
            self.job_with_runs(artifact, kind="draft_post", status=JobStatus.NEEDS_APPROVAL)
            Approval.objects.create(artifact=artifact)

        for index, (name, value) in enumerate(JSON_SPECS):
            artifact = self.artifact(
                projects[(index + 1) % 3],
                name=name,
                kind=ArtifactKind.JSON,
                body_json=value,
                mime_type="application/json",
                metadata={"schema": "flow/v1"},
            )
            self.job_with_runs(artifact, kind="plan_campaign", status=JobStatus.NEEDS_APPROVAL)
            Approval.objects.create(artifact=artifact)

        for index, (name, size, start, end, caption) in enumerate(IMAGES):
            project = projects[index % 3]
            png = demo_image_png(size, start, end, caption)
            path = self.storage.save(f"demo/{project.id}/{name}.png", ContentFile(png))
            artifact = self.artifact(
                project,
                name=f"{name}.png",
                kind=ArtifactKind.FILE,
                storage_path=path,
                mime_type="image/png",
                size_bytes=len(png),
                metadata={"width": size[0], "height": size[1], "prompt": caption},
            )
            self.job_with_runs(artifact, kind="render_image", status=JobStatus.NEEDS_APPROVAL)
            Approval.objects.create(artifact=artifact)

        # History and the rest of the pipeline: an approved post, and jobs in every other status.
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
        # Each review was requested when its artifact arrived, so the queue shows a range of waits.
        Approval.objects.update(
            created_at=Subquery(Artifact.objects.filter(id=OuterRef("artifact_id")).values("created_at"))
        )
        return Approval.objects.filter(status=ApprovalStatus.PENDING).count()


def load_demo_data() -> int | None:
    """Load the demo data into empty tables; returns the pending count, or None when tables had data."""
    if Project.objects.exists():
        return None
    with transaction.atomic():
        return DemoBuilder().build()

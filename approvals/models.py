"""Unmanaged models over the pipeline's tables (migrations_sql/ is the source of truth)."""

import uuid

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F
from django.utils import timezone

from approvals.json_values import PipelineJSONField

# Every foreign key below is DO_NOTHING: the tables' own constraints cascade
# or set null (migrations_sql/), so a delete is one statement and PostgreSQL
# does the rest. CASCADE here would have Django read and delete every
# dependent row itself first: a project's thousands of artifacts, approvals and
# review items, row by row, in Python.


class Project(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.TextField()
    description = models.TextField(blank=True, default="")
    owner_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        managed = False
        db_table = "projects"
        ordering = ["name"]

    def __str__(self):
        return self.name


class ArtifactKind(models.TextChoices):
    TEXT = "text", "Text"
    JSON = "json", "JSON"
    FILE = "file", "File"


class Artifact(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.DO_NOTHING, related_name="artifacts", db_column="project_id")
    name = models.TextField()
    kind = models.TextField(choices=ArtifactKind.choices)
    body_text = models.TextField(null=True, blank=True)
    body_json = PipelineJSONField(null=True, blank=True)
    storage_path = models.TextField(null=True, blank=True)
    mime_type = models.TextField(null=True, blank=True)
    size_bytes = models.BigIntegerField(null=True, blank=True)
    version = models.IntegerField(default=1)
    previous_version = models.ForeignKey(
        "self",
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="revisions",
        db_column="previous_version_id",
    )
    metadata = PipelineJSONField(default=dict, blank=True)
    created_by = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        managed = False
        db_table = "artifacts"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} v{self.version}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    NEEDS_APPROVAL = "needs_approval", "Needs approval"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.TextField()
    status = models.TextField(choices=JobStatus.choices, default=JobStatus.QUEUED)
    input_artifact = models.ForeignKey(
        Artifact,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="input_jobs",
        db_column="input_artifact_id",
    )
    output_artifact = models.ForeignKey(
        Artifact,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="output_jobs",
        db_column="output_artifact_id",
    )
    params = PipelineJSONField(default=dict, blank=True)
    error = models.TextField(null=True, blank=True)
    attempts = models.IntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        managed = False
        db_table = "jobs"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} ({self.get_status_display()})"


class ApprovalStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


NOTES_MAX_LENGTH = 10_000


class ApprovalReason(models.TextChoices):
    """The reason codes a reviewer gives with a decision: the one list (009's check names the same)."""

    TONE = "tone", "Tone"
    ACCURACY = "accuracy", "Accuracy"
    BRAND = "brand", "Brand"
    LENGTH = "length", "Length"
    LEGAL = "legal", "Legal"
    VISUAL = "visual", "Visual"
    OTHER = "other", "Other"


class ApprovalOutcome(models.TextChoices):
    """Which decision a decided row records (009); null while pending. docs/pipeline.md has the rows."""

    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED_WITH_EDITS = "approved_with_edits", "Approved with edits"
    REPLACED_BY_EDIT = "replaced_by_edit", "Replaced by edit"


class Approval(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    artifact = models.ForeignKey(
        Artifact, on_delete=models.DO_NOTHING, related_name="approvals", db_column="artifact_id"
    )
    status = models.TextField(choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING)
    notes = models.TextField(null=True, blank=True, max_length=NOTES_MAX_LENGTH)
    decided_by = models.TextField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    reasons = ArrayField(models.TextField(choices=ApprovalReason.choices), default=list, blank=True)
    outcome = models.TextField(choices=ApprovalOutcome.choices, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        managed = False
        db_table = "approvals"
        ordering = ["-created_at"]
        permissions = [
            ("can_review", "Can review artifacts and decide on approvals"),
            ("can_reopen", "Can reopen decided approvals from History"),
        ]

    def __str__(self):
        return f"{self.get_status_display()} approval of {self.artifact_id}"

    @property
    def is_pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING


class TakebackKind(models.TextChoices):
    UNDO = "undo", "Undone by its reviewer"
    REOPEN = "reopen", "Reopened"


class ReviewTakeback(models.Model):
    """A decided approval taken back, at most once (migrations_sql/016): by undo or reopen, and its successor."""

    approval = models.OneToOneField(
        Approval, on_delete=models.DO_NOTHING, primary_key=True, related_name="takeback", db_column="approval_id"
    )
    reopened_as = models.ForeignKey(
        Approval,
        on_delete=models.DO_NOTHING,
        null=True,
        related_name="reopened_from",
        db_column="reopened_as",
    )
    kind = models.TextField(choices=TakebackKind.choices)
    taken_back_by = models.TextField()
    taken_back_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        managed = False
        db_table = "review_takebacks"
        ordering = ["-taken_back_at"]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.approval_id} by {self.taken_back_by}"


class ReviewClaim(models.Model):
    """Who has a pending approval open now (migrations_sql/008). A claim past expires_at counts for nothing."""

    approval = models.OneToOneField(
        Approval, on_delete=models.DO_NOTHING, primary_key=True, related_name="claim", db_column="approval_id"
    )
    claimant = models.TextField()
    claimed_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "review_claims"
        ordering = ["-claimed_at"]

    def __str__(self):
        return f"{self.claimant} reviewing {self.approval_id}"


class Run(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(Job, on_delete=models.DO_NOTHING, related_name="runs", db_column="job_id")
    model = models.TextField()
    provider = models.TextField(null=True, blank=True)
    prompt_tokens = models.IntegerField(default=0)
    completion_tokens = models.IntegerField(default=0)
    total_tokens = models.GeneratedField(
        expression=F("prompt_tokens") + F("completion_tokens"),
        output_field=models.IntegerField(),
        db_persist=True,
    )
    duration_ms = models.IntegerField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    metadata = PipelineJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        managed = False
        db_table = "runs"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.model} run of job {self.job_id}"


class RunCostDay(models.Model):
    """A UTC day of runs summed in run_cost_rollup; read from runs again while changed_at is set (010)."""

    day = models.DateField(primary_key=True)
    rolled_up_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        managed = False
        db_table = "run_cost_days"

    def __str__(self):
        return self.day.isoformat()


class RunCostRollup(models.Model):
    """Runs of one UTC day summed by model, project or job, or of a month by project (010)."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    dimension = models.TextField()
    key = models.TextField()
    runs = models.BigIntegerField()
    prompt_tokens = models.BigIntegerField()
    completion_tokens = models.BigIntegerField()
    total_tokens = models.BigIntegerField()
    cost_usd = models.DecimalField(max_digits=18, decimal_places=6)

    class Meta:
        managed = False
        db_table = "run_cost_rollup"

    def __str__(self):
        return f"{self.day.isoformat()} {self.dimension} {self.key}"


class ReviewTarget(models.Model):
    """How long items of a project may wait for review (010); older pending items are overdue."""

    project = models.OneToOneField(
        Project, on_delete=models.DO_NOTHING, primary_key=True, related_name="review_target", db_column="project_id"
    )
    target_hours = models.IntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(8760)], help_text="From 1 hour to 8,760 (a year)."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        managed = False
        db_table = "review_targets"
        ordering = ["project__name"]
        # The review analytics pages: staff, and the groups granted this (Leads).
        permissions = [("view_analytics", "Can view review analytics")]

    def __str__(self):
        return f"{self.project}: {self.target_hours} h"


class ReviewItem(models.Model):
    """An approval with what review analytics group by (010), its reason codes and outcome too: kept by triggers."""

    approval = models.OneToOneField(
        Approval, on_delete=models.DO_NOTHING, primary_key=True, related_name="review_item", db_column="approval_id"
    )
    project_id = models.UUIDField()
    status = models.TextField(choices=ApprovalStatus.choices)
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.TextField(null=True, blank=True)
    job_kind = models.TextField(null=True, blank=True)
    prompt = models.TextField(null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=18, decimal_places=6, default=0)
    reasons = ArrayField(models.TextField(choices=ApprovalReason.choices), default=list, blank=True)
    outcome = models.TextField(choices=ApprovalOutcome.choices, null=True, blank=True)
    model_names = ArrayField(models.TextField(), default=list, db_column="models")

    class Meta:
        managed = False
        db_table = "review_items"

    def __str__(self):
        return f"{self.get_status_display()} item {self.approval_id}"

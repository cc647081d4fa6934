from django import forms
from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html, format_html_join

from approvals.admin.big_tables import BigTableAdmin, ReadOnlyInline, artifact_content, bounded_formset
from approvals.admin.filters import MimeFamilyFilter, RevisionFilter, project_filter
from approvals.admin.links import change_link, changelist_link, review_link
from approvals.admin.schema_checks import SchemaCheckedForm
from approvals.models import Approval, Artifact, Job, Project, Run

RELATED_JOBS_SHOWN = 10
INLINE_ROWS = 20


class ArtifactForm(SchemaCheckedForm):
    """The edits ops may make; the checks mirror the table's, so a bad edit is a form error, not a 500."""

    class Meta:
        model = Artifact
        fields = ("name", "mime_type", "size_bytes", "metadata")

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not 1 <= len(name) <= 300:
            raise forms.ValidationError("A name has 1 to 300 characters.")
        taken = Artifact.objects.filter(
            project_id=self.instance.project_id, name=name, version=self.instance.version
        ).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(f"This project already has version {self.instance.version} of {name!r}.")
        return name

    def clean_size_bytes(self):
        size = self.cleaned_data["size_bytes"]
        if size is not None and size < 0:
            raise forms.ValidationError("A size cannot be negative.")
        return size

    def clean_metadata(self):
        metadata = self.cleaned_data["metadata"]
        if not isinstance(metadata, dict):
            raise forms.ValidationError('Metadata is a JSON object, e.g. {"platform": "linkedin"}.')
        return metadata


class ApprovalInline(ReadOnlyInline):
    model = Approval
    formset = bounded_formset(INLINE_ROWS)
    fields = ("status", "decided_by", "decided_at", "notes", "created_at", "review")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = "Approvals (newest first; decided ones are history)"

    @admin.display(description="review page")
    def review(self, approval: Approval) -> str:
        return review_link(approval.pk)


class RevisionInline(ReadOnlyInline):
    model = Artifact
    fk_name = "previous_version"
    formset = bounded_formset(INLINE_ROWS)
    fields = ("name", "version", "created_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = "Revisions of this version"


@admin.register(Artifact)
class ArtifactAdmin(BigTableAdmin):
    form = ArtifactForm
    list_display = ("name", "project_link", "kind", "version", "mime_type", "size", "latest_approval", "created_at")
    list_select_related = ("project",)
    list_deferred = artifact_content("")
    list_filter = (project_filter("project_id"), "kind", MimeFamilyFilter, RevisionFilter)
    search_fields = ("name",)
    uuid_search_fields = ("pk", "project_id", "previous_version_id")
    # The index artifacts (project_id, created_at desc): grouped by project, newest first.
    ordering = ("project_id", "-created_at")
    sortable_by = ("created_at",)
    fieldsets = (
        (None, {"fields": ("id", "project_link", "name", "kind", "version", "previous_version_link")}),
        ("Content", {"fields": ("body_text", "body_json", "storage_path", "mime_type", "size_bytes")}),
        ("Metadata", {"fields": ("metadata", "created_by", "created_at", "updated_at")}),
        ("Related", {"fields": ("review", "approvals", "jobs")}),
    )
    readonly_fields = (
        "id",
        "project_link",
        "kind",
        "version",
        "previous_version_link",
        "body_text",
        "body_json",
        "storage_path",
        "created_by",
        "created_at",
        "updated_at",
        "review",
        "approvals",
        "jobs",
    )
    inlines = (ApprovalInline, RevisionInline)

    def has_add_permission(self, request):
        # Artifacts come from the pipeline.
        return False

    # Deleting an artifact cascades in the database to its approvals and
    # decisions: the pipeline's record, which the console only reads and edits.
    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        latest = Approval.objects.filter(artifact=OuterRef("pk")).order_by("-created_at")
        return (
            super()
            .get_queryset(request)
            .annotate(
                latest_approval_id=Subquery(latest.values("id")[:1]),
                latest_approval_status=Subquery(latest.values("status")[:1]),
            )
        )

    @admin.display(description="project")
    def project_link(self, artifact: Artifact) -> str:
        return change_link(Project, artifact.project_id, artifact.project.name)

    @admin.display(description="size")
    def size(self, artifact: Artifact) -> str:
        return filesizeformat(artifact.size_bytes) if artifact.size_bytes is not None else "—"

    @admin.display(description="latest approval")
    def latest_approval(self, artifact: Artifact) -> str:
        if artifact.latest_approval_id is None:
            return "none"
        return format_html(
            "{} · {}",
            change_link(Approval, artifact.latest_approval_id, artifact.latest_approval_status),
            review_link(artifact.latest_approval_id, "review"),
        )

    @admin.display(description="previous version")
    def previous_version_link(self, artifact: Artifact) -> str:
        if artifact.previous_version_id is None:
            return "—"
        return change_link(Artifact, artifact.previous_version_id, "previous version")

    @admin.display(description="review page")
    def review(self, artifact: Artifact) -> str:
        return review_link(artifact.latest_approval_id, "Open in the reviewer UI")

    @admin.display(description="approvals")
    def approvals(self, artifact: Artifact) -> str:
        return changelist_link(Approval, "All approvals of this artifact", artifact=artifact.pk)

    @admin.display(description="jobs and runs")
    def jobs(self, artifact: Artifact) -> str:
        jobs = list(Job.objects.filter(output_artifact=artifact).order_by("-created_at")[:RELATED_JOBS_SHOWN]) + list(
            Job.objects.filter(input_artifact=artifact).order_by("-created_at")[:RELATED_JOBS_SHOWN]
        )
        if not jobs:
            return "No job produced or used this artifact."
        return format_html_join(
            "",
            "<div>{} {} · {}</div>",
            (
                (
                    "produced by" if job.output_artifact_id == artifact.pk else "input of",
                    change_link(Job, job.pk, str(job)),
                    changelist_link(Run, "runs", job=job.pk),
                )
                for job in jobs
            ),
        )

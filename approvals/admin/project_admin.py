from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.urls import reverse
from django.utils.html import format_html

from approvals.admin.big_tables import BigTableAdmin, ReadOnlyInline, bounded_formset
from approvals.admin.links import changelist_link
from approvals.admin.schema_checks import SchemaCheckedForm
from approvals.figures import format_usd
from approvals.models import Artifact, Job, Project, Run

RECENT_ARTIFACTS = 20


class RecentArtifactsInline(ReadOnlyInline):
    model = Artifact
    # A project may hold thousands of artifacts: show the newest only.
    formset = bounded_formset(RECENT_ARTIFACTS)
    fields = ("name", "kind", "version", "mime_type", "created_at")
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = f"Newest {RECENT_ARTIFACTS} artifacts"


@admin.register(Project)
class ProjectAdmin(BigTableAdmin):
    form = SchemaCheckedForm
    list_display = ("name", "created_at", "artifacts", "jobs", "owner_id")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    sortable_by = ("name", "created_at")
    fields = ("id", "name", "description", "owner_id", "usage", "created_at", "updated_at")
    readonly_fields = ("id", "owner_id", "usage", "created_at", "updated_at")
    inlines = (RecentArtifactsInline,)

    # A project's delete cascades in the database to all its artifacts,
    # approvals, decisions and review items: the pipeline's record, never
    # removed from the console (nor through the "delete selected" action,
    # which Django offers only with this permission).
    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        counts = Artifact.objects.filter(project=OuterRef("pk")).order_by().values("project").annotate(n=Count("*"))
        return (
            super()
            .get_queryset(request)
            .annotate(artifact_count=Subquery(counts.values("n"), output_field=IntegerField()))
        )

    @admin.display(description="artifacts")
    def artifacts(self, project: Project) -> str:
        return changelist_link(Artifact, f"{project.artifact_count or 0:,} artifacts", project=project.pk)

    @admin.display(description="jobs")
    def jobs(self, project: Project) -> str:
        return changelist_link(Job, "Jobs", project=project.pk)

    @admin.display(description="tokens and cost (all time)")
    def usage(self, project: Project) -> str:
        if project.pk is None:
            return "—"
        totals = Run.objects.filter(job__output_artifact__project=project).aggregate(
            runs=Count("id"), tokens=Sum("total_tokens"), cost=Sum("cost_usd")
        )
        return format_html(
            '{} runs, {} tokens, {} · <a href="{}">costs dashboard</a> · {}',
            f"{totals['runs']:,}",
            f"{totals['tokens'] or 0:,}",
            format_usd(totals["cost"] or 0),
            reverse("admin:approvals_run_costs"),
            changelist_link(Run, "runs", project=project.pk),
        )

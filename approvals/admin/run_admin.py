from django.contrib import admin
from django.urls import path

from approvals.admin.big_tables import BigTableAdmin, artifact_content
from approvals.admin.costs_dashboard import costs_dashboard
from approvals.admin.filters import RunModelFilter, project_filter
from approvals.admin.links import change_link
from approvals.admin.run_figures import RunFigures
from approvals.admin.schema_checks import SchemaCheckedForm
from approvals.models import Artifact, Job, Run


@admin.register(Run)
class RunAdmin(RunFigures, BigTableAdmin):
    form = SchemaCheckedForm
    list_display = (
        "created_at",
        "model",
        "provider",
        "job_link",
        "artifact_link",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "duration",
        "cost",
    )
    list_select_related = ("job__output_artifact",)
    list_deferred = ("metadata", "job__params", *artifact_content("job__output_artifact"))
    list_filter = (
        RunModelFilter,
        ("created_at", admin.DateFieldListFilter),
        project_filter("job__output_artifact__project_id", label="project of the job's output"),
    )
    # Searching runs means pasting a run or job id, or a model name (both indexed).
    search_fields = ("model",)
    search_help_text = "A run or job id, or an exact model name."
    uuid_search_fields = ("pk", "job_id")
    date_hierarchy = "created_at"
    # runs_created_at_idx (and runs_model_created_idx when filtered by model).
    ordering = ("-created_at",)
    sortable_by = ("created_at",)
    raw_id_fields = ("job",)
    fields = (
        "id",
        "job",
        "model",
        "provider",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "duration_ms",
        "cost_usd",
        "metadata",
        "created_at",
    )
    readonly_fields = ("id", "total_tokens", "created_at")

    def has_add_permission(self, request):
        # Runs are the pipeline's record of model calls.
        return False

    def get_text_search_results(self, request, queryset, search_term):
        return queryset.filter(model=search_term.strip()), False

    def get_urls(self):
        dashboard = self.admin_site.admin_view(lambda request: costs_dashboard(request, model_admin=self))
        return [path("costs/", dashboard, name="approvals_run_costs"), *super().get_urls()]

    @admin.display(description="job")
    def job_link(self, run: Run) -> str:
        return change_link(Job, run.job_id, str(run.job))

    @admin.display(description="output artifact")
    def artifact_link(self, run: Run) -> str:
        artifact = run.job.output_artifact
        return change_link(Artifact, artifact.pk, str(artifact)) if artifact else "—"

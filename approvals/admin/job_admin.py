from django.contrib import admin
from django.db.models import DecimalField, IntegerField, OuterRef, Subquery, Sum
from django.template.defaultfilters import truncatechars
from django.utils.html import format_html

from approvals import decisions
from approvals.admin.actions import ActionPermissions, ActionReport, selected_within_limit
from approvals.admin.big_tables import BigTableAdmin, ReadOnlyInline, artifact_content, bounded_formset
from approvals.admin.filters import project_filter
from approvals.admin.links import change_link, changelist_link, review_link
from approvals.admin.run_figures import RunFigures
from approvals.admin.schema_checks import SchemaCheckedForm
from approvals.figures import format_usd
from approvals.models import Approval, ApprovalStatus, Artifact, Job, Project, Run

RUNS_SHOWN = 50


class RunInline(RunFigures, ReadOnlyInline):
    model = Run
    formset = bounded_formset(RUNS_SHOWN)
    fields = (
        "created_at",
        "model",
        "provider",
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "duration",
        "cost",
    )
    readonly_fields = fields
    ordering = ("-created_at",)
    verbose_name_plural = f"Runs (newest {RUNS_SHOWN})"


def _run_sum(column: str, output_field) -> Subquery:
    # A correlated subquery per shown row (runs_job_id_idx): PostgreSQL runs it
    # after ORDER BY ... LIMIT, so a page costs 50 index probes, not a join
    # and GROUP BY over millions of runs.
    runs = Run.objects.filter(job=OuterRef("pk")).order_by().values("job")
    return Subquery(runs.annotate(total=Sum(column)).values("total"), output_field=output_field)


@admin.register(Job)
class JobAdmin(ActionPermissions, BigTableAdmin):
    form = SchemaCheckedForm
    list_display = (
        "kind",
        "status",
        "artifact_link",
        "project_link",
        "attempts",
        "tokens",
        "cost",
        "created_at",
        "finished_at",
        "runs_link",
        "short_error",
    )
    list_select_related = ("output_artifact__project", "input_artifact__project")
    list_deferred = ("params", *artifact_content("output_artifact", "input_artifact"))
    list_filter = ("status", project_filter("output_artifact__project_id", label="project of the output"))
    search_fields = ("kind", "error")
    uuid_search_fields = ("pk", "input_artifact_id", "output_artifact_id")
    # The index jobs (status, created_at), read backwards: running, queued,
    # needs_approval, failed, done; newest first within each.
    ordering = ("-status", "-created_at")
    sortable_by = ("status", "created_at")
    raw_id_fields = ("input_artifact", "output_artifact")
    fieldsets = (
        (None, {"fields": ("id", "kind", "status", "attempts", "error", "params")}),
        ("Artifacts", {"fields": ("input_artifact", "output_artifact", "approvals")}),
        ("Usage", {"fields": ("usage",)}),
        ("Times", {"fields": ("created_at", "started_at", "finished_at", "updated_at")}),
    )
    # Status moves only through the decision service (decide, requeue, reopen).
    readonly_fields = ("id", "status", "approvals", "usage", "created_at", "started_at", "finished_at", "updated_at")
    inlines = (RunInline,)
    actions = ("requeue_failed_jobs",)

    def has_add_permission(self, request):
        # Jobs come from the pipeline.
        return False

    def get_deleted_objects(self, objs, request):
        """Django's list of what a delete removes, and the jobs' runs: the database deletes those.

        The models leave cascades to the database (DO_NOTHING), so Django's
        collector no longer sees the runs; the confirmation page still counts them.
        """
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        runs = Run.objects.filter(job__in=objs).count()
        if runs:
            counts[Run._meta.verbose_name_plural] = runs
        return deleted, counts, perms_needed, protected

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                run_tokens=_run_sum("total_tokens", IntegerField()),
                run_cost=_run_sum("cost_usd", DecimalField(max_digits=18, decimal_places=6)),
            )
        )

    @admin.display(description="artifact")
    def artifact_link(self, job: Job) -> str:
        # What it produced; for a job that has produced nothing (yet), what it works on.
        if job.output_artifact is not None:
            return change_link(Artifact, job.output_artifact_id, str(job.output_artifact))
        if job.input_artifact is not None:
            return format_html("input: {}", change_link(Artifact, job.input_artifact_id, str(job.input_artifact)))
        return "—"

    @admin.display(description="project")
    def project_link(self, job: Job) -> str:
        artifact = job.output_artifact or job.input_artifact
        return change_link(Project, artifact.project_id, artifact.project.name) if artifact else "—"

    @admin.display(description="tokens")
    def tokens(self, job: Job) -> str:
        return f"{job.run_tokens:,}" if job.run_tokens is not None else "—"

    @admin.display(description="cost")
    def cost(self, job: Job) -> str:
        return format_usd(job.run_cost)

    @admin.display(description="runs")
    def runs_link(self, job: Job) -> str:
        return changelist_link(Run, "runs", job=job.pk)

    @admin.display(description="error")
    def short_error(self, job: Job) -> str:
        return truncatechars(job.error, 80) if job.error else ""

    @admin.display(description="usage")
    def usage(self, job: Job) -> str:
        if job.run_cost is None:
            return "No runs."
        return f"{job.run_tokens:,} tokens, {format_usd(job.run_cost)} over its runs"

    @admin.display(description="approvals of the output")
    def approvals(self, job: Job) -> str:
        if job.output_artifact_id is None:
            return "—"
        pending = (
            Approval.objects.filter(artifact_id=job.output_artifact_id, status=ApprovalStatus.PENDING)
            .values_list("id", flat=True)
            .first()
        )
        links = changelist_link(Approval, "approvals", artifact=job.output_artifact_id)
        return format_html("{} · {}", links, review_link(pending, "pending review")) if pending else links

    @admin.action(description="Requeue selected failed jobs", permissions=["requeue"])
    def requeue_failed_jobs(self, request, queryset):
        jobs = selected_within_limit(self, request, queryset)
        if jobs is None:
            return
        report = ActionReport(done_verb="Requeued", noun="job")
        for job in jobs:
            name = f"{job.kind} {str(job.pk)[:8]}"
            try:
                decisions.requeue(job_id=job.pk, requeued_by=request.user.get_username())
            except decisions.DecisionError as refusal:
                report.skip(name, refusal.message)
                continue
            self.log_change(request, job, "Requeued through the admin action: status queued, error cleared.")
            report.change(name)
        report.send(self, request)

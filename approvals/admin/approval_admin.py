from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.template.defaultfilters import truncatechars
from django.template.response import TemplateResponse

from approvals import decisions
from approvals.admin.actions import ActionPermissions, ActionReport, selected_within_limit
from approvals.admin.big_tables import BigTableAdmin, artifact_content
from approvals.admin.filters import DecidedWithinFilter, project_filter
from approvals.admin.links import change_link, changelist_link, review_link
from approvals.admin.reason_filters import OutcomeFilter, ReasonFilter
from approvals.models import NOTES_MAX_LENGTH, Approval, ApprovalStatus, Artifact, Job, Project

DECIDED = (ApprovalStatus.APPROVED, ApprovalStatus.REJECTED)


class AdminDecisionForm(forms.Form):
    notes = forms.CharField(
        required=False,
        max_length=NOTES_MAX_LENGTH,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 4, "cols": 80}),
    )

    def __init__(self, *args, decision: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.decision = decision
        self.fields["notes"].required = decision == ApprovalStatus.REJECTED

    def clean_notes(self) -> str:
        # The service's own rule, so the form and the service cannot disagree.
        try:
            return decisions.clean_notes(self.cleaned_data["notes"], required=self.decision == ApprovalStatus.REJECTED)
        except decisions.InvalidDecision as refusal:
            raise forms.ValidationError(refusal.message) from refusal


def _name(approval: Approval) -> str:
    return str(approval.artifact)


@admin.register(Approval)
class ApprovalAdmin(ActionPermissions, BigTableAdmin):
    list_display = (
        "artifact_link",
        "project_link",
        "status",
        "outcome",
        "reasons",
        "created_at",
        "decided_by",
        "decided_at",
        "short_notes",
        "review",
        "jobs",
    )
    # The artifact column is a link of its own: the row's link to its approval goes on the status instead
    # (a link inside Django's row link would be cut into an empty <a>, which screen readers cannot name).
    list_display_links = ("status",)
    list_select_related = ("artifact__project",)
    list_deferred = artifact_content("artifact")
    list_filter = ("status", OutcomeFilter, ReasonFilter, DecidedWithinFilter, project_filter("artifact__project_id"))
    search_fields = ("artifact__name", "decided_by")
    uuid_search_fields = ("pk", "artifact_id")
    # The order follows the status filter so that an index always serves it (see get_ordering).
    sortable_by = ()
    fields = (
        "id",
        "artifact_link",
        "project_link",
        "status",
        "outcome",
        "reasons",
        "notes",
        "decided_by",
        "decided_at",
        "created_at",
        "updated_at",
        "review",
        "jobs",
        "history",
    )
    readonly_fields = fields
    actions = ("approve_selected", "reject_selected", "reopen_selected")

    def get_ordering(self, request):
        status = request.GET.get("status__exact")
        if status == ApprovalStatus.PENDING:
            # The review queue's order (approvals_pending_queue_idx).
            return ("created_at", "id")
        if status in DECIDED or request.GET.get(DecidedWithinFilter.parameter_name):
            # The decision history (approvals_decided_history_idx).
            return ("-decided_at", "-id")
        if request.GET.get("project") or request.GET.get("artifact"):
            # A project's (or an artifact's) approvals are few: found through
            # indexes, then sorted newest first.
            return ("-created_at", "-id")
        # Unfiltered: each artifact's approvals together, newest first (approvals_artifact_id_idx).
        return ("artifact_id", "-created_at")

    # Decisions are never edited in place (a pending one is decided through the
    # service, a decided one is reopened): every approval page is read-only, and
    # approvals are created by the pipeline or by reopening, never by hand.
    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="artifact")
    def artifact_link(self, approval: Approval) -> str:
        return change_link(Artifact, approval.artifact_id, str(approval.artifact))

    @admin.display(description="project")
    def project_link(self, approval: Approval) -> str:
        project = approval.artifact.project
        return change_link(Project, project.pk, project.name)

    @admin.display(description="notes")
    def short_notes(self, approval: Approval) -> str:
        return truncatechars(approval.notes, 60) if approval.notes else ""

    @admin.display(description="review page")
    def review(self, approval: Approval) -> str:
        return review_link(approval.pk)

    @admin.display(description="jobs")
    def jobs(self, approval: Approval) -> str:
        return changelist_link(Job, "jobs", output_artifact=approval.artifact_id)

    @admin.display(description="history")
    def history(self, approval: Approval) -> str:
        return changelist_link(Approval, "every approval of this artifact", artifact=approval.artifact_id)

    # --- Actions: each calls the decision service, one approval at a time. ---

    @admin.action(description="Approve selected pending approvals…", permissions=["review"])
    def approve_selected(self, request, queryset):
        return self._decide(request, queryset, decision=ApprovalStatus.APPROVED)

    @admin.action(description="Reject selected pending approvals…", permissions=["review"])
    def reject_selected(self, request, queryset):
        return self._decide(request, queryset, decision=ApprovalStatus.REJECTED)

    def _decide(self, request, queryset, *, decision: str):
        approvals = selected_within_limit(self, request, queryset, related=("artifact__project",))
        if approvals is None:
            return None
        if "apply" not in request.POST:
            form = AdminDecisionForm(decision=decision)
            return self._decision_page(request, approvals, form, decision=decision)
        form = AdminDecisionForm(request.POST, decision=decision)
        if not form.is_valid():
            return self._decision_page(request, approvals, form, decision=decision)
        verb = "Approved" if decision == ApprovalStatus.APPROVED else "Rejected"
        report = ActionReport(done_verb=verb, noun="approval")
        for approval in approvals:
            try:
                result = decisions.decide(
                    approval_id=approval.pk,
                    decision=decision,
                    notes=form.cleaned_data["notes"],
                    decided_by=request.user.get_username(),
                )
            except decisions.DecisionError as refusal:
                report.skip(_name(approval), refusal.message)
                continue
            self.log_change(
                request,
                approval,
                f"{verb} through the admin action; {result.jobs_moved} job(s) moved on. "
                f"Notes: {form.cleaned_data['notes'] or '(none)'}",
            )
            report.change(_name(approval))
        report.send(self, request)
        return None

    def _decision_page(self, request, approvals: list[Approval], form: AdminDecisionForm, *, decision: str):
        verb = "Approve" if decision == ApprovalStatus.APPROVED else "Reject"
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} {len(approvals)} selected approval{'s' if len(approvals) != 1 else ''}",
            "opts": self.model._meta,
            "verb": verb,
            "form": form,
            "notes_required": decision == ApprovalStatus.REJECTED,
            "approvals": approvals,
            "pending": [a for a in approvals if a.status == ApprovalStatus.PENDING],
            "not_pending": [a for a in approvals if a.status != ApprovalStatus.PENDING],
            "action": "approve_selected" if decision == ApprovalStatus.APPROVED else "reject_selected",
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/approvals/approval/decide_selected.html", context)

    @admin.action(description="Reopen selected decided approvals (new pending approval)", permissions=["reopen"])
    def reopen_selected(self, request, queryset):
        approvals = selected_within_limit(self, request, queryset, related=("artifact",))
        if approvals is None:
            return
        report = ActionReport(done_verb="Reopened", noun="approval")
        for approval in approvals:
            try:
                result = decisions.reopen(approval_id=approval.pk, reopened_by=request.user.get_username())
            except decisions.DecisionError as refusal:
                report.skip(_name(approval), refusal.message)
                continue
            self.log_change(
                request,
                approval,
                f"Reopened through the admin action: new pending approval {result.new_approval_id}; "
                f"{result.jobs_moved} job(s) back to needs_approval. This decision stays as history.",
            )
            reopened = Approval(
                pk=result.new_approval_id, artifact_id=result.artifact_id, status=ApprovalStatus.PENDING
            )
            self.log_addition(request, reopened, f"Created by reopening approval {approval.pk}.")
            report.change(_name(approval))
        report.send(self, request)

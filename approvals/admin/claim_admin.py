"""Review claims in the ops console: who has what open, and a "Release" action through the claims service."""

from django.contrib import admin
from django.db.models import Q
from django.db.models.functions import Now

from approvals import claims
from approvals.admin.actions import ActionReport, selected_within_limit
from approvals.admin.changelist_checks import CheckedChangeListAdmin
from approvals.admin.links import change_link
from approvals.models import Approval, ReviewClaim


class ClaimLiveFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "Live"), ("expired", "Expired")]

    def queryset(self, request, queryset):
        # The database's clock, the one claims are taken and expire by.
        if self.value() == "live":
            return queryset.filter(expires_at__gt=Now())
        if self.value() == "expired":
            return queryset.filter(~Q(expires_at__gt=Now()))
        return queryset


@admin.register(ReviewClaim)
class ClaimAdmin(CheckedChangeListAdmin):
    list_display = ("approval_link", "claimant", "claimed_at", "expires_at")
    list_select_related = ("approval__artifact",)
    list_filter = (ClaimLiveFilter, "claimant")
    search_fields = ("claimant",)
    fields = ("approval_link", "claimant", "claimed_at", "expires_at")
    readonly_fields = fields
    actions = ("release_selected",)

    # Claims are taken by opening items and ended by the service: never typed in by hand.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="approval")
    def approval_link(self, claim: ReviewClaim) -> str:
        return change_link(Approval, claim.approval_id, str(claim.approval.artifact))

    @admin.action(description="Release selected claims", permissions=["change"])
    def release_selected(self, request, queryset):
        selected = selected_within_limit(self, request, queryset, related=("approval__artifact",))
        if selected is None:
            return
        report = ActionReport(done_verb="Released", noun="claim")
        for claim in selected:
            name = f"{claim.claimant} on {claim.approval.artifact}"
            if claims.release(approval_id=claim.approval_id, claimant=None):
                report.change(name)
            else:
                report.skip(name, "it had already ended.")
        report.send(self, request)

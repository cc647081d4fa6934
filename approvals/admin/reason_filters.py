"""Admin sidebar filters for what 009 added to approvals: the reason codes and which decision a row records."""

from django.contrib import admin

from approvals.models import ApprovalOutcome, ApprovalReason


class ReasonFilter(admin.SimpleListFilter):
    """Rows whose reasons include the chosen code (served by the GIN index approvals_reasons_idx)."""

    title = "reason"
    parameter_name = "reason"

    def lookups(self, request, model_admin):
        return ApprovalReason.choices

    def queryset(self, request, queryset):
        if self.value() in ApprovalReason.values:
            return queryset.filter(reasons__contains=[self.value()])
        return queryset


class OutcomeFilter(admin.SimpleListFilter):
    """Tells an edit from a rejection: the decision a row records, beyond approved or rejected."""

    title = "decision"
    parameter_name = "outcome"

    def lookups(self, request, model_admin):
        return ApprovalOutcome.choices

    def queryset(self, request, queryset):
        if self.value() in ApprovalOutcome.values:
            return queryset.filter(outcome=self.value())
        return queryset

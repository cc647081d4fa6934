"""Review targets (hours an item of a project may wait) edited in the admin; the queue flags items over them."""

from django.contrib import admin

from approvals.admin.autocomplete import CheckedAutocompleteSelect
from approvals.admin.changelist_checks import CheckedChangeListAdmin
from approvals.models import ReviewTarget


@admin.register(ReviewTarget)
class ReviewTargetAdmin(CheckedChangeListAdmin):
    list_display = ("project", "target_hours", "updated_at")
    list_select_related = ("project",)
    search_fields = ("project__name",)
    # A thousand projects: a search box, not a drop-down of them all.
    autocomplete_fields = ("project",)
    fields = ("project", "target_hours")
    ordering = ("project__name",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in self.get_autocomplete_fields(request):
            kwargs.setdefault("widget", CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using")))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

"""Review targets (hours an item of a project may wait) edited in the admin; the queue flags items over them."""

from django.contrib import admin

from approvals.models import ReviewTarget


@admin.register(ReviewTarget)
class ReviewTargetAdmin(admin.ModelAdmin):
    list_display = ("project", "target_hours", "updated_at")
    list_select_related = ("project",)
    search_fields = ("project__name",)
    # A thousand projects: a search box, not a drop-down of them all.
    autocomplete_fields = ("project",)
    fields = ("project", "target_hours")
    ordering = ("project__name",)

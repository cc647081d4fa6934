"""Sidebar filters whose choices cost an index probe, never a scan of the table.

Django's stock filters for a foreign key or a free-text column list every
distinct value (SELECT DISTINCT over millions of rows, or a select of a
thousand projects); these list a bounded set instead.
"""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone

from approvals.admin.costs import distinct_run_models
from approvals.files.families import MediaFamily, family_q
from approvals.models import ApprovalStatus, Project
from approvals.selectors.filters import uuid_or_none

RECENT_PROJECTS = 12


def project_filter(field: str, *, label: str = "project") -> type[admin.SimpleListFilter]:
    """A filter on the project reached through `field` (a path ending in project_id).

    It offers the newest projects and keeps any other chosen one (links from a
    project's page pass `?project=<id>`).
    """

    class ProjectFilter(admin.SimpleListFilter):
        title = label
        parameter_name = "project"

        def lookups(self, request, model_admin):
            projects = list(Project.objects.order_by("-created_at").values_list("id", "name")[:RECENT_PROJECTS])
            chosen = uuid_or_none(self.value())
            if chosen and chosen not in {pk for pk, _ in projects}:
                projects += list(Project.objects.filter(pk=chosen).values_list("id", "name"))
            return [(str(pk), name) for pk, name in projects]

        def queryset(self, request, queryset):
            if self.value() is None:
                return queryset
            chosen = uuid_or_none(self.value())
            return queryset.filter(**{field: chosen}) if chosen else queryset.none()

    return ProjectFilter


class RunModelFilter(admin.SimpleListFilter):
    title = "model"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        return [(model, model) for model in distinct_run_models()]

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


class DecidedWithinFilter(admin.SimpleListFilter):
    """When the decision was made. The status condition lets PostgreSQL use the
    partial index on decided approvals (decided_at desc) WHERE status <> 'pending'."""

    title = "decided"
    parameter_name = "decided_within"
    DAYS = {"1": 1, "7": 7, "30": 30, "365": 365}

    def lookups(self, request, model_admin):
        return [("1", "Today"), ("7", "Past 7 days"), ("30", "Past 30 days"), ("365", "Past year")]

    def queryset(self, request, queryset):
        days = self.DAYS.get(self.value() or "")
        if days is None:
            return queryset
        since = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
        return queryset.filter(status__in=[ApprovalStatus.APPROVED, ApprovalStatus.REJECTED], decided_at__gte=since)


class MimeFamilyFilter(admin.SimpleListFilter):
    """The queue's media families, by the same rules (approvals.files.families)."""

    title = "media"
    parameter_name = "mime"

    def lookups(self, request, model_admin):
        return MediaFamily.choices

    def queryset(self, request, queryset):
        if self.value() not in MediaFamily.values:
            return queryset
        return queryset.filter(family_q(self.value()))


class RevisionFilter(admin.SimpleListFilter):
    title = "version"
    parameter_name = "revision"

    def lookups(self, request, model_admin):
        return [("first", "First versions"), ("revision", "Revisions (version 2+)")]

    def queryset(self, request, queryset):
        if self.value() == "first":
            return queryset.filter(previous_version__isnull=True)
        if self.value() == "revision":
            return queryset.filter(previous_version__isnull=False)
        return queryset

"""What migrate needs around the SQL schema: Django's own schema, the Reviewers and Leads groups."""

from django.apps import apps as global_apps
from django.conf import settings
from django.db import connections

REVIEWERS_GROUP = "Reviewers"
# Leads review too, may reopen decided items from History, and read the review analytics.
LEADS_GROUP = "Leads"
GROUP_PERMISSIONS = {REVIEWERS_GROUP: ["can_review"], LEADS_GROUP: ["can_review", "can_reopen", "view_analytics"]}


def ensure_django_schema(*, using, **kwargs):
    """Create Django's schema before migrate, so its tables never land in public.

    search_path puts this schema first; if it were missing, PostgreSQL would
    silently create Django's tables in the next one, public.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(f'create schema if not exists "{settings.DJANGO_SCHEMA}"')


def ensure_review_groups(*, using, apps=global_apps, **kwargs):
    """The Reviewers and Leads groups with their permissions."""
    # flush (run after every transactional test) sends post_migrate without apps.
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        permissions = Permission.objects.using(using).filter(
            content_type__app_label="approvals", codename__in=codenames
        )
        group.permissions.add(*permissions)

"""What migrate needs around the SQL schema: Django's own schema, the Reviewers group."""

from django.apps import apps as global_apps
from django.conf import settings
from django.db import connections

REVIEWERS_GROUP = "Reviewers"


def ensure_django_schema(*, using, **kwargs):
    """Create Django's schema before migrate, so its tables never land in public.

    search_path puts this schema first; if it were missing, PostgreSQL would
    silently create Django's tables in the next one, public.
    """
    with connections[using].cursor() as cursor:
        cursor.execute(f'create schema if not exists "{settings.DJANGO_SCHEMA}"')


def ensure_reviewers_group(*, using, apps=global_apps, **kwargs):
    # flush (run after every transactional test) sends post_migrate without apps.
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(using).get_or_create(name=REVIEWERS_GROUP)
    permission = (
        Permission.objects.using(using).filter(content_type__app_label="approvals", codename="can_review").first()
    )
    if permission is not None:
        group.permissions.add(permission)

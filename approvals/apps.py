from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Flow Review"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_migrate, pre_migrate

        from approvals.plumbing import migrate_hooks, pg_timestamps

        pre_migrate.connect(migrate_hooks.ensure_django_schema, sender=self)
        post_migrate.connect(migrate_hooks.ensure_review_groups, sender=self)
        # Rows the pipeline wrote with timestamps Python cannot hold load instead of raising DataError.
        connection_created.connect(pg_timestamps.on_connection_created)

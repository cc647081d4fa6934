from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connections

from approvals.sql_migrations import Runner, connection_params


class Command(BaseCommand):
    help = "Apply migrations_sql/ to the database, in order, each file in its own transaction."

    def add_arguments(self, parser):
        parser.add_argument("--database", default="default")
        parser.add_argument("--dir", default=str(settings.SQL_MIGRATIONS_DIR))

    def handle(self, *args, database, dir, **options):
        runner = Runner(
            connection_params(connections[database]),
            dir,
            django_schema=settings.DJANGO_SCHEMA,
            out=self.stdout.write,
        )
        runner.apply()

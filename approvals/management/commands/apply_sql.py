"""`manage.py apply_sql`: apply migrations_sql/ (see docs/apply-sql.md for every option and exit code)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils.connection import ConnectionDoesNotExist

from approvals.sql_runner import maintenance as sql_maintenance
from approvals.sql_runner import rehearsal as sql_rehearsal
from approvals.sql_runner.runner import Runner, connection_params
from approvals.sql_runner.session import EXIT_CONFIG, ApplySqlError


class Command(BaseCommand):
    help = "Apply migrations_sql/ to the database, in order, each file in its own transaction."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument("--plan", action="store_true", help="List what would run; change nothing.")
        mode.add_argument(
            "--rehearse",
            action="store_true",
            help="Run the pending files that apply in a transaction, in one, then roll it back; name the locks held.",
        )
        mode.add_argument("--status", action="store_true", help="Every file: applied, pending, changed, failed.")
        mode.add_argument(
            "--baseline", action="store_true", help="Record the files of a database migrated by hand as applied."
        )
        mode.add_argument("--repair", metavar="VERSION", help="Accept a changed file, or clear a failed one.")
        mode.add_argument("--rollback", action="store_true", help="Drop the schema and clear the ledger (with --yes).")
        parser.add_argument(
            "--check", action="store_true", help="With --status (implied): exit 1 if anything is pending."
        )
        parser.add_argument("--yes", action="store_true", help="Confirm --rollback.")
        parser.add_argument("--database", default="default", help="Django database alias (default: default).")
        parser.add_argument("--dir", default=str(settings.SQL_MIGRATIONS_DIR), help="Folder of NNN_name.sql files.")
        parser.add_argument("--wait", type=float, default=0, metavar="SECONDS", help="Wait for a starting database.")
        parser.add_argument(
            "--lock-timeout", type=float, default=60, metavar="SECONDS", help="Wait this long for another deploy."
        )
        parser.add_argument(
            "--table-lock-timeout",
            type=float,
            default=5,
            metavar="SECONDS",
            help="Give up on a statement waiting longer than this for a table's lock (default 5).",
        )
        parser.add_argument(
            "--allow-out-of-order", action="store_true", help="Apply a pending file numbered below an applied one."
        )

    def handle(self, *args, **options):
        if options["rollback"] and not options["yes"]:
            tables = sql_maintenance.tables_dropped()
            raise CommandError(
                f"--rollback drops the tables {', '.join(tables[:-1])} and {tables[-1]} with all their rows (the "
                "reviewer app's too: claims, review items, the costs rollup, and review targets typed in by hand), "
                "the approvals' reason codes and outcomes, and the bucket flow-artifacts. Run it again with --yes "
                "to confirm.",
                returncode=EXIT_CONFIG,
            )
        try:
            connection = connections[options["database"]]
        except ConnectionDoesNotExist:
            raise CommandError(
                f"No database alias {options['database']!r} in DATABASES.", returncode=EXIT_CONFIG
            ) from None
        verbose = options["verbosity"] > 0

        def out(text: str, end: str = "\n") -> None:
            if verbose:
                self.stdout.write(text, ending=end)
                self.stdout.flush()

        runner = Runner(
            connection_params(connection),
            options["dir"],
            django_schema=settings.DJANGO_SCHEMA,
            out=out,
            err=self.stderr.write,
            wait=options["wait"],
            lock_timeout=options["lock_timeout"],
            table_lock_timeout=options["table_lock_timeout"],
        )
        order = {"allow_out_of_order": options["allow_out_of_order"]}
        try:
            if options["plan"]:
                runner.plan(**order)
            elif options["rehearse"]:
                sql_rehearsal.rehearse(runner, **order)
            elif options["status"] or options["check"]:
                runner.status(check=options["check"])
            elif options["baseline"]:
                sql_maintenance.baseline(runner)
            elif options["repair"]:
                sql_maintenance.repair(runner, version=options["repair"])
            elif options["rollback"]:
                sql_maintenance.rollback(runner)
            else:
                runner.apply(**order)
        except ApplySqlError as error:
            if error.report:
                self.stderr.write(error.report)
            raise CommandError(error.summary, returncode=error.exit_code) from None

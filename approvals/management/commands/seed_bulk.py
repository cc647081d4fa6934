import time

from django.core.management.base import BaseCommand, CommandError

from approvals.seeding.bulk import BulkPlan, TablesNotEmpty, seed_bulk


class Command(BaseCommand):
    help = (
        "Fill projects, artifacts, jobs, approvals and runs with realistic volume for the ops console and the "
        "benchmarks (set-based SQL). Defaults: 1,000,000 artifacts; projects, jobs, approvals and runs scale with it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--artifacts", type=int, default=1_000_000, help="artifacts, jobs and approvals (N)")
        parser.add_argument("--pending", type=int, default=None, help="pending approvals (default N / 10)")
        parser.add_argument("--truncate", action="store_true", help="empty the five tables first")

    def handle(self, *args, artifacts, pending, truncate, **options):
        try:
            plan = BulkPlan.for_artifacts(artifacts=artifacts, pending=pending)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"Seeding {plan.projects:,} projects, {plan.artifacts:,} artifacts, {plan.jobs:,} jobs, "
            f"{plan.approvals:,} approvals ({plan.pending:,} pending), {plan.runs:,} runs"
        )
        started = time.perf_counter()
        log = self.stdout.write if options["verbosity"] > 1 else (lambda _: None)
        try:
            seed_bulk(plan=plan, truncate=truncate, log=log)
        except TablesNotEmpty as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(f"Seeded in {time.perf_counter() - started:.1f} s"))

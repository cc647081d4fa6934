"""seed_bulk: proportional counts, rows the pipeline could have written, refusal to mix with existing data."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, F, Q

from approvals.models import Approval, ApprovalStatus, Artifact, ArtifactKind, Job, JobStatus, Project, Run
from approvals.seeding.bulk import FILE_TYPES, MODEL_PRICES
from approvals.tests.factories import make_project

pytestmark = pytest.mark.django_db

ARTIFACTS = 2000


@pytest.fixture
def seeded():
    call_command("seed_bulk", artifacts=ARTIFACTS, stdout=_Quiet())


class _Quiet:
    def write(self, text):
        pass

    def flush(self):
        pass


def _scalar(sql: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_counts_scale_with_artifacts(seeded):
    assert Project.objects.count() == 2
    assert Artifact.objects.count() == ARTIFACTS
    assert Job.objects.count() == ARTIFACTS
    assert Approval.objects.count() == ARTIFACTS
    assert Approval.objects.filter(status=ApprovalStatus.PENDING).count() == ARTIFACTS // 10
    assert Run.objects.count() == 3 * ARTIFACTS


def test_pending_option_sets_the_queue_length():
    call_command("seed_bulk", artifacts=500, pending=500, stdout=_Quiet())
    assert Approval.objects.filter(status=ApprovalStatus.PENDING).count() == 500
    # Every artifact waits and has a job waiting for it.
    assert Job.objects.filter(status=JobStatus.NEEDS_APPROVAL).count() == 500


def test_every_job_status_and_artifact_kind_occurs(seeded):
    assert set(Job.objects.values_list("status", flat=True).distinct()) == set(JobStatus.values)
    assert set(Artifact.objects.values_list("kind", flat=True).distinct()) == set(ArtifactKind.values)


def test_jobs_follow_their_artifacts_approval(seeded):
    decided = Job.objects.exclude(output_artifact=None)
    mismatched = (
        decided.filter(output_artifact__approvals__status=ApprovalStatus.PENDING)
        .exclude(status=JobStatus.NEEDS_APPROVAL)
        .count()
        + decided.filter(output_artifact__approvals__status=ApprovalStatus.APPROVED)
        .exclude(status=JobStatus.DONE)
        .count()
        + decided.filter(output_artifact__approvals__status=ApprovalStatus.REJECTED)
        .exclude(status=JobStatus.FAILED)
        .count()
    )
    assert mismatched == 0
    rejected_jobs = decided.filter(status=JobStatus.FAILED)
    assert rejected_jobs.exists()
    assert not rejected_jobs.exclude(error__startswith="Rejected by ").exists()


def test_one_approval_per_artifact_and_decided_ones_say_who_and_when(seeded):
    assert Artifact.objects.annotate(n=Count("approvals")).exclude(n=1).count() == 0
    decided = Approval.objects.exclude(status=ApprovalStatus.PENDING)
    assert not decided.filter(Q(decided_by=None) | Q(decided_at=None)).exists()
    assert not decided.filter(decided_at__lt=F("created_at")).exists()
    assert not Approval.objects.filter(status=ApprovalStatus.REJECTED, notes=None).exists()


def test_versions_revise_an_artifact_of_the_same_project_and_name(seeded):
    revisions = Artifact.objects.exclude(previous_version=None)
    assert revisions.count() == ARTIFACTS // 5
    assert not revisions.exclude(project=F("previous_version__project")).exists()
    assert not revisions.exclude(name=F("previous_version__name")).exists()
    assert not revisions.exclude(version=F("previous_version__version") + 1).exists()


def test_file_artifacts_have_paths_and_known_mime_types(seeded):
    files = Artifact.objects.filter(kind=ArtifactKind.FILE)
    assert set(files.values_list("mime_type", flat=True).distinct()) <= {mime for _, mime, *_ in FILE_TYPES}
    assert not files.filter(Q(storage_path=None) | Q(size_bytes=None)).exists()
    assert {"image/png", "image/jpeg", "video/mp4", "application/pdf", "text/csv"} <= set(
        files.values_list("mime_type", flat=True).distinct()
    )


def test_run_costs_follow_the_model_prices(seeded):
    for run in Run.objects.order_by("id")[:300]:
        provider, prompt_price, completion_price, *_ = MODEL_PRICES[run.model]
        expected = (run.prompt_tokens * prompt_price + run.completion_tokens * completion_price) / Decimal(1_000_000)
        assert run.cost_usd == expected.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)
        assert run.provider == provider
        assert run.total_tokens == run.prompt_tokens + run.completion_tokens


def test_queued_jobs_have_no_runs_and_times_are_consistent(seeded):
    assert not Run.objects.filter(job__status=JobStatus.QUEUED).exists()
    assert not Job.objects.filter(started_at__gt=F("finished_at")).exists()
    assert _scalar("select count(*) from runs where created_at > now()") == 0
    assert _scalar("select count(*) from artifacts where created_at > now()") == 0


def test_refuses_tables_that_already_hold_rows():
    make_project(name="Real data")
    with pytest.raises(CommandError, match="already hold rows: projects"):
        call_command("seed_bulk", artifacts=100, stdout=_Quiet())
    assert list(Project.objects.values_list("name", flat=True)) == ["Real data"]


def test_truncate_replaces_existing_rows():
    make_project(name="Real data")
    call_command("seed_bulk", artifacts=100, truncate=True, stdout=_Quiet())
    assert not Project.objects.filter(name="Real data").exists()
    assert Artifact.objects.count() == 100


def test_rejects_more_pending_than_artifacts():
    with pytest.raises(CommandError, match="--pending must be between 0 and"):
        call_command("seed_bulk", artifacts=10, pending=11, stdout=_Quiet())


def test_seeding_leaves_the_ops_consoles_review_items_and_cost_rollup_complete(seeded):
    from approvals.admin import costs
    from approvals.tests.cost_reports import dashboard_report, raw_report

    assert _scalar("select count(*) from review_items") == _scalar("select count(*) from approvals")
    assert _scalar("select count(*) from review_items where status <> 'pending' and job_kind is null") < ARTIFACTS // 10
    assert _scalar("select count(*) from run_cost_days where rolled_up_at is not null") > 300
    period = costs.Period.last_days(365)
    dashboard, raw = dashboard_report(period), raw_report(period, dimensions=("totals", "by_model"))
    assert {name: dashboard[name] for name in raw} == raw

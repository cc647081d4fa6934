"""What a file in migrations_sql/ may contain: apply_sql refuses what cannot run as written before anything runs."""

import pytest

from approvals.tests.scratch_database import untouched

# --- what files may contain -----------------------------------------------------------------------


def test_pending_file_numbered_below_an_applied_one_is_refused(scratch_db, migrations_dir):
    (migrations_dir / "960_later.sql").write_text("create table public.later (id int);\n")
    scratch_db.apply_sql(directory=migrations_dir)
    (migrations_dir / "907_merged_late.sql").write_text("create table public.merged_late (id int);\n")

    refused = scratch_db.apply_sql(directory=migrations_dir)
    allowed = scratch_db.apply_sql("--allow-out-of-order", directory=migrations_dir)

    assert refused.code == 3
    assert "907_merged_late.sql: pending but numbered below a file already applied" in refused.err
    assert allowed.code == 0
    assert "merged_late" in scratch_db.public_tables()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("begin;\ncreate table public.t (id int);\ncommit;\n", "line 1: BEGIN"),
        ("create index concurrently if not exists runs_model_idx2 on public.runs (model);\n", "line 1: this statement"),
    ],
    ids=["own-transaction", "concurrently-without-marker"],
)
def test_file_that_cannot_run_in_a_transaction_is_refused_before_anything_runs(
    scratch_db, migrations_dir, body, expected
):
    (migrations_dir / "907_bad.sql").write_text(body)

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert f"907_bad.sql: {expected}" in result.err
    assert untouched(scratch_db)


def test_two_files_with_one_version_number_are_refused(scratch_db, migrations_dir):
    (migrations_dir / "006_also_six.sql").write_text("create table public.also_six (id int);\n")

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert "006_also_six.sql, 006_create_storage_bucket.sql" in result.err
    assert untouched(scratch_db)


def test_no_transaction_marker_runs_create_index_concurrently(scratch_db, migrations_dir):
    (migrations_dir / "907_runs_provider_index.sql").write_text(
        "-- apply_sql: no-transaction\n"
        "-- Built without blocking the pipeline's writes.\n"
        "create index concurrently if not exists runs_provider_idx on public.runs (provider);\n"
    )

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 0, result.text
    assert scratch_db.value(
        "select indisvalid from pg_index where indexrelid = to_regclass('public.runs_provider_idx')"
    )
    assert scratch_db.query("select in_transaction from flow_migrations.applied_files where version = '907'") == [
        (False,)
    ]


def test_failed_no_transaction_file_stays_failed_until_repaired(scratch_db, migrations_dir):
    marker_file = migrations_dir / "907_runs_provider_index.sql"
    marker_file.write_text(
        "-- apply_sql: no-transaction\ncreate index concurrently runs_provider_idx on public.runz (provider);\n"
    )
    column = marker_file.read_text().splitlines()[1].index("public.runz") + 1
    failed = scratch_db.apply_sql(directory=migrations_dir)
    blocked = scratch_db.apply_sql(directory=migrations_dir)
    marker_file.write_text(marker_file.read_text().replace("runz", "runs"))
    repaired = scratch_db.apply_sql("--repair", "907", directory=migrations_dir)
    retried = scratch_db.apply_sql(directory=migrations_dir)

    assert failed.code == 1
    assert f"{marker_file}:2:{column}: ERROR 42P01" in failed.err
    assert "marks it failed" in failed.err
    assert blocked.code == 3
    assert "--repair 907" in blocked.err
    assert repaired.code == 0
    assert retried.code == 0, retried.text
    assert scratch_db.events("apply")[-1] == "907"

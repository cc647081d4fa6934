"""apply_sql's maintenance commands: accepting a changed file (--repair) and adopting a database migrated by hand
(--baseline). Rollback's tests stay in test_apply_sql.py."""

from approvals.tests.scratch_database import FILES, VERSIONS

# --- checksums and repair -------------------------------------------------------------------------


def test_changed_applied_file_is_refused_with_a_diff(scratch_db, migrations_dir):
    scratch_db.apply_sql(directory=migrations_dir)
    jobs = migrations_dir / "003_create_jobs.sql"
    jobs.write_text(jobs.read_text().replace("default 'queued'", "default 'running'"))
    (migrations_dir / "907_later.sql").write_text("create table public.later (id int);\n")

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 3
    assert "003_create_jobs.sql: checksum mismatch" in result.err
    assert "-  status             text not null default 'queued'," in result.err
    assert "+  status             text not null default 'running'," in result.err
    assert "later" not in scratch_db.public_tables()


def test_line_ending_and_whitespace_changes_are_not_changes(scratch_db, migrations_dir):
    scratch_db.apply_sql(directory=migrations_dir)
    projects = migrations_dir / "001_create_projects.sql"
    text = projects.read_text()
    crlf = "\ufeff" + "\r\n".join(line + "  " for line in text.split("\n")) + "\r\n\r\n"
    projects.write_bytes(crlf.encode())

    result = scratch_db.apply_sql(directory=migrations_dir)

    assert result.code == 0, result.text
    assert "Nothing to apply" in result.out


def test_repair_accepts_a_changed_file_and_logs_it(scratch_db, migrations_dir):
    scratch_db.apply_sql(directory=migrations_dir)
    jobs = migrations_dir / "003_create_jobs.sql"
    jobs.write_text(jobs.read_text() + "\ncomment on column public.jobs.error is 'Why it failed.';\n")

    repaired = scratch_db.apply_sql("--repair", "003", directory=migrations_dir)
    after = scratch_db.apply_sql(directory=migrations_dir)

    assert repaired.code == 0
    assert "Accepted the changed 003_create_jobs.sql" in repaired.out
    assert after.code == 0 and "Nothing to apply" in after.out
    assert scratch_db.events("repair") == ["003"]
    assert "Why it failed." in scratch_db.value(
        "select applied_text from flow_migrations.applied_files where version = '003'"
    )


# --- adopting a database migrated by hand ----------------------------------------------------------


def migrate_by_hand(db, directory, files) -> None:
    """What the Supabase SQL editor does: the shim (Supabase has these objects), then the files as pasted."""
    from approvals.sql_runner.runner import SHIM_PATH

    db.execute(SHIM_PATH.read_text())
    for name in files:
        db.execute((directory / name).read_text())


def test_hand_migrated_database_stops_a_normal_run_and_baseline_adopts_it(scratch_db, migrations_dir):
    migrate_by_hand(scratch_db, migrations_dir, FILES)

    refused = scratch_db.apply_sql(directory=migrations_dir)
    adopted = scratch_db.apply_sql("--baseline", directory=migrations_dir)
    status = scratch_db.apply_sql("--status", directory=migrations_dir)
    after = scratch_db.apply_sql(directory=migrations_dir)

    # 007 only revokes privileges: nothing in it can be checked by reading, so the
    # baseline stops there and the normal run applies it and the files after it
    # again (each file is idempotent).
    checkable = VERSIONS[: VERSIONS.index("007")]
    assert refused.code == 3
    assert "--baseline" in refused.err
    assert adopted.code == 0, adopted.text
    assert "007_revoke_unneeded_privileges.sql creates nothing that can be checked by reading it" in adopted.out
    assert scratch_db.events("baseline") == checkable
    assert status.out.count("applied (baseline)") == len(checkable)
    assert after.code == 0, after.text
    assert scratch_db.events("apply") == VERSIONS[len(checkable) :]
    assert scratch_db.ledger() == VERSIONS


def test_baseline_leaves_files_not_yet_run_pending(scratch_db, migrations_dir):
    migrate_by_hand(scratch_db, migrations_dir, FILES[:4])

    adopted = scratch_db.apply_sql("--baseline", directory=migrations_dir)
    after = scratch_db.apply_sql(directory=migrations_dir)

    assert adopted.code == 0
    assert scratch_db.events("baseline") == VERSIONS[:4]
    assert "Applying 005_create_runs.sql ... OK" in after.out
    assert scratch_db.events("apply") == VERSIONS[4:]


def test_baseline_refuses_a_file_whose_columns_are_missing(scratch_db, migrations_dir):
    migrate_by_hand(scratch_db, migrations_dir, FILES)
    scratch_db.execute("alter table public.approvals drop column notes")

    result = scratch_db.apply_sql("--baseline", directory=migrations_dir)

    assert result.code == 3
    assert "missing column public.approvals.notes" in result.err
    assert scratch_db.ledger() == []

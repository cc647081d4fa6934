"""Every table grants `authenticated` exactly what the design says, even under Supabase's default privileges."""

import pytest

# The pipeline's five tables (007 trims them), then the reviewer app's own (008, 010).
TABLES = (
    "projects",
    "artifacts",
    "jobs",
    "approvals",
    "runs",
    "review_claims",
    "run_cost_days",
    "run_cost_rollup",
    "review_targets",
    "review_items",
)
GRANTED = ("SELECT", "INSERT", "UPDATE", "DELETE")
NOT_GRANTED = ("TRUNCATE", "REFERENCES", "TRIGGER")


def privileges(db, role: str, table: str) -> set[str]:
    return {
        privilege
        for privilege in (*GRANTED, *NOT_GRANTED)
        if db.value("select has_table_privilege(%s, %s, %s)", [role, f"public.{table}", privilege])
    }


@pytest.mark.parametrize("table", TABLES)
def test_authenticated_gets_no_truncate_references_or_trigger_even_from_supabase_defaults(scratch_db, table):
    # Supabase's default privileges: every new table in public is granted whole to anon and authenticated.
    scratch_db.execute("alter default privileges in schema public grant all on tables to anon, authenticated")
    try:
        result = scratch_db.apply_sql()
        assert result.code == 0, result.text

        assert privileges(scratch_db, "authenticated", table) == set(GRANTED)
        assert privileges(scratch_db, "anon", table) == set()
    finally:
        scratch_db.execute("alter default privileges in schema public revoke all on tables from anon, authenticated")


def test_rollback_undoes_the_privileges_file_too(scratch_db):
    assert scratch_db.apply_sql().code == 0

    result = scratch_db.apply_sql("--rollback", "--yes")

    assert result.code == 0, result.text
    assert scratch_db.ledger() == []
    assert not scratch_db.public_tables()

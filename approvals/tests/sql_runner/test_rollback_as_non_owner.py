"""Rollback as hosted Supabase runs it: a role that owns the five tables but not storage.objects.

It cannot drop the bucket's policies there. It must say exactly what is left
and exit with its own code (6), not warn and exit 0.
"""

import uuid

import pytest

from approvals.tests.scratch_database import add_alias, apply_sql, remove_alias

POLICIES = ["flow_artifacts_delete", "flow_artifacts_insert", "flow_artifacts_select", "flow_artifacts_update"]


@pytest.fixture
def deployer(scratch_db):
    """A login role owning every table and function the files made in public (as the migrating role on Supabase
    does), not the storage tables."""
    assert scratch_db.apply_sql().code == 0
    role = f"deployer_{uuid.uuid4().hex[:8]}"
    scratch_db.execute(
        f"""
        create role {role} login;
        do $$
        declare
          item record;
        begin
          for item in select tablename from pg_tables where schemaname = 'public' loop
            execute format('alter table public.%I owner to {role}', item.tablename);
          end loop;
          for item in select p.oid::regprocedure as signature
                        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                       where n.nspname = 'public' loop
            execute format('alter routine %s owner to {role}', item.signature);
          end loop;
        end;
        $$;
        grant all on schema flow_migrations, public to {role};
        grant all on all tables in schema flow_migrations to {role};
        grant all on all sequences in schema flow_migrations to {role};
        grant usage on schema storage to {role};
        grant select, delete on storage.objects, storage.buckets to {role};
        alter table storage.buckets disable row level security;
        alter table storage.objects disable row level security;
        """  # noqa: S608 (the role name is made here)
    )
    alias = f"{scratch_db.alias}_as_{role}"
    add_alias(alias, NAME=scratch_db.name, USER=role)
    try:
        yield alias
    finally:
        remove_alias(alias)
        scratch_db.execute(f"drop owned by {role}; drop role {role}")


def test_a_rollback_that_cannot_drop_the_storage_policies_says_what_is_left_and_exits_6(scratch_db, deployer):
    result = apply_sql(deployer, "--rollback", "--yes")

    assert result.code == 6, result.text
    for policy in POLICIES:
        assert policy in result.err
    assert "Storage > Policies" in result.err
    assert "and its policies" not in result.text
    assert not scratch_db.public_tables()  # everything else was rolled back
    assert (
        sorted(row[0] for row in scratch_db.query("select policyname from pg_policies where tablename = 'objects'"))
        == POLICIES
    )

-- 007_revoke_unneeded_privileges.sql
-- The five tables grant authenticated exactly what 001-005 say: select,
-- insert, update and delete, under RLS. Supabase's default privileges give
-- authenticated ALL on new public tables, which adds TRUNCATE (it ignores RLS:
-- one client could empty a table), REFERENCES and TRIGGER (and MAINTAIN on
-- PostgreSQL 17). Revoked here; anon has nothing since 001-005.
-- Idempotent. Run in apply_sql's transaction, under its lock_timeout: REVOKE
-- takes a short lock on each table.

do $$
declare
  table_name text;
begin
  foreach table_name in array array['projects', 'artifacts', 'jobs', 'approvals', 'runs']
  loop
    execute format('revoke all on table public.%I from authenticated', table_name);
    execute format('grant select, insert, update, delete on table public.%I to authenticated', table_name);
    execute format('revoke all on table public.%I from anon', table_name);
  end loop;
end;
$$;

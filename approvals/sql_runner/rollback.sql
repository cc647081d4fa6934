-- rollback.sql: undo migrations_sql/001..007 in reverse order (apply_sql --rollback --yes).
-- Runs in one transaction with the clearing of the ledger: all or nothing.
-- Drops without CASCADE, so an object someone else built on these tables
-- stops the rollback instead of disappearing with it.

-- Wait at most 5 s for a busy table's lock (storage.objects above all) rather
-- than queue every reader of it behind the DROP; apply_sql sets its own
-- (--table-lock-timeout), this is for a run by hand in the SQL editor.
select set_config('lock_timeout', '5s', true) where current_setting('lock_timeout') = '0';

-- Supabase refuses DELETE on storage tables unless this is set in the same transaction.
select set_config('storage.allow_delete_query', 'true', true);

-- 007 revoked privileges on the five tables: nothing to undo, the tables go below.

-- 006: the bucket's policies, its object rows, then the bucket.
do $$
declare
  policy_name text;
begin
  if to_regclass('storage.objects') is null then
    return;
  end if;
  foreach policy_name in array array['flow_artifacts_select', 'flow_artifacts_insert',
                                     'flow_artifacts_update', 'flow_artifacts_delete']
  loop
    begin
      execute format('drop policy if exists %I on storage.objects', policy_name);
    exception when insufficient_privilege then
      raise warning 'flow-artifacts: not allowed to drop policy % on storage.objects (%).', policy_name, sqlerrm
        using hint = 'Delete it in the Supabase dashboard (Storage > Policies).';
    end;
  end loop;
  -- Deleting rows does not delete the files behind them on Supabase Storage;
  -- empty the bucket through the dashboard or the API first to free them.
  delete from storage.objects where bucket_id = 'flow-artifacts';
  delete from storage.buckets where id = 'flow-artifacts';
end;
$$;

-- 005 .. 001: the tables (their triggers, indexes and policies go with them).
drop table if exists public.runs;
drop table if exists public.approvals;
drop table if exists public.jobs;
drop table if exists public.artifacts;
drop table if exists public.projects;
drop function if exists public.set_updated_at();

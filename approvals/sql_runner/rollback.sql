-- rollback.sql: undo migrations_sql/001..018 in reverse order (apply_sql --rollback --yes).
-- Runs in one transaction with the clearing of the ledger: all or nothing.
-- Drops without CASCADE, so an object someone else built on these tables
-- stops the rollback instead of disappearing with it.

-- Wait at most 5 s for a busy table's lock (storage.objects above all) rather
-- than queue every reader of it behind the DROP; apply_sql sets its own
-- (--table-lock-timeout), this is for a run by hand in the SQL editor.
select set_config('lock_timeout', '5s', true) where current_setting('lock_timeout') = '0';

-- 018: the rollup's day finder (its other functions are 010's, replaced: they go with 010's below).
drop function if exists public.run_cost_days_with_runs(date);

-- 017 changed rows only; 016's trigger and function are 010's, replaced: they go with 010's below.
-- 016: the decisions taken back (before approvals, which they reference).
drop table if exists public.review_takebacks;

-- 015 ran 014's backfill; 014 is 010's objects again (below) and this procedure; 012 and 013 are 011's
-- checks and index, 011 is 009's columns: they go with 009's below.
drop procedure if exists public.backfill_ops_rollups(integer);

-- 010: the cost rollup's and review items' triggers and functions, their tables, the review targets.
drop trigger if exists artifacts_project_changed_move_review_items on public.artifacts;
drop trigger if exists approvals_keep_review_items on public.approvals;
drop trigger if exists artifacts_project_changed_stamp_cost_days on public.artifacts;
drop trigger if exists jobs_artifacts_changed_stamp_cost_days on public.jobs;
drop trigger if exists runs_truncated_clear_cost_days on public.runs;
drop trigger if exists runs_deleted_stamp_cost_days on public.runs;
drop trigger if exists runs_updated_stamp_cost_days on public.runs;
drop trigger if exists runs_inserted_stamp_cost_days on public.runs;
drop function if exists public.refresh_run_cost_rollup();
drop function if exists public.artifacts_stamp_cost_days();
drop function if exists public.jobs_stamp_cost_days();
drop function if exists public.runs_truncated_clear_cost_days();
drop function if exists public.runs_stamp_cost_days();
drop function if exists public.run_cost_days_changed(date[]);
drop function if exists public.run_cost_open_from();
drop function if exists public.artifacts_move_review_items();
drop function if exists public.rebuild_review_items();
drop function if exists public.approvals_keep_review_items();
drop function if exists public.review_item_work(uuid);
drop function if exists public.review_item_work(uuid[]);
drop function if exists public.review_item_artifacts(uuid, uuid, text);
drop table if exists public.review_items;
drop table if exists public.review_targets;
drop table if exists public.run_cost_rollup;
drop table if exists public.run_cost_days;

-- 009: the approvals' reason codes and outcome (their checks and index go with them).
alter table if exists public.approvals drop column if exists outcome;
alter table if exists public.approvals drop column if exists reasons;

-- 008: the reviewer app's claims (before approvals, which they reference).
drop table if exists public.review_claims;

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

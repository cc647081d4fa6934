-- 011_approval_reasons_live.sql
-- apply_sql: replaces 009
-- 009's reason codes and outcome, applied to a live database. 009 validated
-- its two checks by scanning every approval and built its index without
-- CONCURRENTLY, all under ACCESS EXCLUSIVE: queue reads stopped meanwhile
-- (up to 1 s at 1M artifacts). Where 009 is still pending apply_sql records
-- it without running it and runs this file, then 012 (validation) and 013
-- (the index); where 009 was applied, these three change nothing.
-- The same end state as 009 (docs/apply-sql.md, "Files that replace earlier ones").
--
-- Here only what is short: adding a column with a constant default and
-- adding a check NOT VALID touch the catalog, not the rows. apply_sql waits at
-- most 0.2 s for the table's lock and tries again, so whoever queues behind
-- it waits no longer than that.

alter table public.approvals add column if not exists reasons text[] not null default '{}';
alter table public.approvals add column if not exists outcome text;

-- Added once, NOT VALID (new and updated rows are checked from now on);
-- 012 validates the rows already there. 009 dropped and re-added them, which
-- scans the table again on every run.
do $$
begin
  if not exists (select from pg_constraint
                  where conrelid = 'public.approvals'::regclass and conname = 'approvals_reasons_known') then
    alter table public.approvals add constraint approvals_reasons_known check (
      reasons <@ array['tone', 'accuracy', 'brand', 'length', 'legal', 'visual', 'other']::text[]
      and array_position(reasons, null) is null
    ) not valid;
  end if;
  if not exists (select from pg_constraint
                  where conrelid = 'public.approvals'::regclass and conname = 'approvals_outcome_matches_status') then
    alter table public.approvals add constraint approvals_outcome_matches_status check (
      outcome is null
      or (status = 'approved' and outcome in ('approved', 'approved_with_edits'))
      or (status = 'rejected' and outcome in ('rejected', 'changes_requested', 'replaced_by_edit'))
    ) not valid;
  end if;
end;
$$;

comment on column public.approvals.reasons is
  'Reason codes given with the decision: tone, accuracy, brand, length, legal, visual, other.';
comment on column public.approvals.outcome is
  'Which decision: approved, rejected, changes_requested, approved_with_edits, replaced_by_edit; null while pending.';

-- RLS and grants as 009 restates them.
alter table public.approvals enable row level security;
revoke all on table public.approvals from anon;
grant select, insert, update, delete on table public.approvals to authenticated;
grant all on table public.approvals to service_role;

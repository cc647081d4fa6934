-- 009_add_approval_reasons.sql
-- What the reviewer app records beside a decision (turn 2): reason codes, and
-- which of the reviewer's decisions a row records. The pipeline's own columns
-- are unchanged; both new columns have defaults, so its inserts still work.
--
-- reasons: codes from one fixed list (approvals.models.ApprovalReason), so that
--   history and ops can filter and count by them; '{}' when none was given.
-- outcome: null while pending (and on rows decided before 009 or by other tools,
--   where status alone says what happened); otherwise one of
--     approved             a plain approve
--     rejected             a plain reject (final)
--     changes_requested    rejected, and a revision job was queued for the agent
--     approved_with_edits  the reviewer's edited version, approved
--     replaced_by_edit     the agent's draft, closed because a reviewer's edit of it was approved
--   docs/pipeline.md lists the exact rows each decision writes.

alter table public.approvals add column if not exists reasons text[] not null default '{}';
alter table public.approvals add column if not exists outcome text;

alter table public.approvals drop constraint if exists approvals_reasons_known;
alter table public.approvals add constraint approvals_reasons_known check (
  reasons <@ array['tone', 'accuracy', 'brand', 'length', 'legal', 'visual', 'other']::text[]
  and array_position(reasons, null) is null
);

alter table public.approvals drop constraint if exists approvals_outcome_matches_status;
alter table public.approvals add constraint approvals_outcome_matches_status check (
  outcome is null
  or (status = 'approved' and outcome in ('approved', 'approved_with_edits'))
  or (status = 'rejected' and outcome in ('rejected', 'changes_requested', 'replaced_by_edit'))
);

comment on column public.approvals.reasons is
  'Reason codes given with the decision: tone, accuracy, brand, length, legal, visual, other.';
comment on column public.approvals.outcome is
  'Which decision: approved, rejected, changes_requested, approved_with_edits, replaced_by_edit; null while pending.';

-- History and ops filter decided rows by a reason ("reasons @> array['tone']").
create index if not exists approvals_reasons_idx
  on public.approvals using gin (reasons) where cardinality(reasons) > 0;

-- RLS and grants: the table's own (004) cover the new columns; restated so this
-- file holds on a database where 004 was applied by hand with other grants.
alter table public.approvals enable row level security;
revoke all on table public.approvals from anon;
grant select, insert, update, delete on table public.approvals to authenticated;
grant all on table public.approvals to service_role;

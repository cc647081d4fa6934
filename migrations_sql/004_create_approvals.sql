-- 004_create_approvals.sql
-- Approvals: a person's decision on an artifact. Decisions are never edited
-- in place; reopening adds a new pending row, so at most one is pending per artifact.

create table if not exists public.approvals (
  id          uuid primary key default gen_random_uuid(),
  artifact_id uuid not null references public.artifacts (id) on delete cascade,
  status      text not null default 'pending',
  notes       text,
  decided_by  text,
  decided_at  timestamptz,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint approvals_status_valid check (status in ('pending', 'approved', 'rejected')),
  constraint approvals_notes_length check (notes is null or char_length(notes) <= 10000),
  constraint approvals_decided_at_iff_decided check ((status = 'pending') = (decided_at is null)),
  constraint approvals_pending_has_no_decider check (status <> 'pending' or decided_by is null)
);

comment on table public.approvals is 'Reviewer decisions on artifacts; pending rows form the review queue.';

create unique index if not exists approvals_one_pending_per_artifact
  on public.approvals (artifact_id) where status = 'pending';
-- The queue reads pending rows oldest first; history reads decided rows newest first.
create index if not exists approvals_pending_queue_idx
  on public.approvals (created_at, id) where status = 'pending';
create index if not exists approvals_decided_history_idx
  on public.approvals (decided_at desc, id desc) where status <> 'pending';
create index if not exists approvals_artifact_id_idx on public.approvals (artifact_id, created_at desc);

create or replace trigger approvals_set_updated_at
  before update on public.approvals
  for each row execute function public.set_updated_at();

alter table public.approvals enable row level security;
revoke all on table public.approvals from anon;
grant select, insert, update, delete on table public.approvals to authenticated;
grant all on table public.approvals to service_role;

drop policy if exists approvals_authenticated_all on public.approvals;
create policy approvals_authenticated_all on public.approvals
  for all to authenticated using (true) with check (true);

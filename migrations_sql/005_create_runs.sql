-- 005_create_runs.sql
-- Runs: one model call made by a job, with its tokens, duration and cost.

create table if not exists public.runs (
  id                uuid primary key default gen_random_uuid(),
  job_id            uuid not null references public.jobs (id) on delete cascade,
  model             text not null,
  provider          text,
  prompt_tokens     integer not null default 0,
  completion_tokens integer not null default 0,
  total_tokens      integer generated always as (prompt_tokens + completion_tokens) stored,
  duration_ms       integer,
  cost_usd          numeric(12, 6),
  metadata          jsonb not null default '{}'::jsonb,
  created_at        timestamptz not null default now(),
  constraint runs_model_length check (char_length(model) between 1 and 200),
  constraint runs_prompt_tokens_nonnegative check (prompt_tokens >= 0),
  constraint runs_completion_tokens_nonnegative check (completion_tokens >= 0),
  constraint runs_duration_nonnegative check (duration_ms is null or duration_ms >= 0),
  constraint runs_cost_nonnegative check (cost_usd is null or cost_usd >= 0),
  constraint runs_metadata_is_object check (jsonb_typeof(metadata) = 'object')
);

comment on table public.runs is 'Model calls made by jobs: tokens, duration, cost.';

create index if not exists runs_job_id_idx on public.runs (job_id);
create index if not exists runs_created_at_idx on public.runs (created_at);
create index if not exists runs_model_created_idx on public.runs (model, created_at);

alter table public.runs enable row level security;
revoke all on table public.runs from anon;
grant select, insert, update, delete on table public.runs to authenticated;
grant all on table public.runs to service_role;

drop policy if exists runs_authenticated_all on public.runs;
create policy runs_authenticated_all on public.runs
  for all to authenticated using (true) with check (true);

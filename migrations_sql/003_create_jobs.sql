-- 003_create_jobs.sql
-- Jobs: one pipeline step each. A job that produced an artifact waits in
-- needs_approval until a reviewer decides; the decision moves it to done or failed.

create table if not exists public.jobs (
  id                 uuid primary key default gen_random_uuid(),
  kind               text not null,
  status             text not null default 'queued',
  input_artifact_id  uuid references public.artifacts (id) on delete set null,
  output_artifact_id uuid references public.artifacts (id) on delete set null,
  params             jsonb not null default '{}'::jsonb,
  error              text,
  attempts           integer not null default 0,
  started_at         timestamptz,
  finished_at        timestamptz,
  created_at         timestamptz not null default now(),
  updated_at         timestamptz not null default now(),
  constraint jobs_kind_length check (char_length(kind) between 1 and 100),
  constraint jobs_status_valid check (status in ('queued', 'running', 'needs_approval', 'done', 'failed')),
  constraint jobs_attempts_nonnegative check (attempts >= 0),
  constraint jobs_params_is_object check (jsonb_typeof(params) = 'object'),
  constraint jobs_finished_after_started check (finished_at is null or started_at is null or finished_at >= started_at)
);

comment on table public.jobs is 'Pipeline steps; needs_approval ones wait for a reviewer.';

create index if not exists jobs_status_created_idx on public.jobs (status, created_at);
create index if not exists jobs_input_artifact_id_idx on public.jobs (input_artifact_id);
create index if not exists jobs_output_artifact_id_idx on public.jobs (output_artifact_id);

create or replace trigger jobs_set_updated_at
  before update on public.jobs
  for each row execute function public.set_updated_at();

alter table public.jobs enable row level security;
revoke all on table public.jobs from anon;
grant select, insert, update, delete on table public.jobs to authenticated;
grant all on table public.jobs to service_role;

drop policy if exists jobs_authenticated_all on public.jobs;
create policy jobs_authenticated_all on public.jobs
  for all to authenticated using (true) with check (true);

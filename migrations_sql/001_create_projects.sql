-- 001_create_projects.sql
-- Projects group the pipeline's work. Also defines set_updated_at(), the
-- trigger function every table with an updated_at column shares.
-- Idempotent: safe to run again on Supabase and on plain PostgreSQL 15+.

create or replace function public.set_updated_at() returns trigger
language plpgsql as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

create table if not exists public.projects (
  id          uuid primary key default gen_random_uuid(),
  name        text not null,
  description text not null default '',
  owner_id    uuid default auth.uid(),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint projects_name_length check (char_length(name) between 1 and 200)
);

comment on table public.projects is 'A body of work for the Flow Social Agents pipeline.';
comment on column public.projects.owner_id is 'The Supabase user who created the project (auth.uid()).';

create index if not exists projects_created_at_idx on public.projects (created_at desc);
create index if not exists projects_owner_id_idx on public.projects (owner_id);

create or replace trigger projects_set_updated_at
  before update on public.projects
  for each row execute function public.set_updated_at();

-- RLS policies do not grant access by themselves: grant explicitly, so plain
-- PostgreSQL behaves as Supabase (whose default privileges grant anon too).
alter table public.projects enable row level security;
revoke all on table public.projects from anon;
grant select, insert, update, delete on table public.projects to authenticated;
grant all on table public.projects to service_role;

drop policy if exists projects_authenticated_all on public.projects;
create policy projects_authenticated_all on public.projects
  for all to authenticated using (true) with check (true);

-- 002_create_artifacts.sql
-- Artifacts: what the pipeline produced. Exactly one body per kind: text in
-- body_text, JSON in body_json, or a file in the storage bucket
-- flow-artifacts under storage_path. A revision points at the version it revises.

create table if not exists public.artifacts (
  id                  uuid primary key default gen_random_uuid(),
  project_id          uuid not null references public.projects (id) on delete cascade,
  name                text not null,
  kind                text not null,
  body_text           text,
  body_json           jsonb,
  storage_path        text,
  mime_type           text,
  size_bytes          bigint,
  version             integer not null default 1,
  previous_version_id uuid references public.artifacts (id) on delete set null,
  metadata            jsonb not null default '{}'::jsonb,
  created_by          uuid default auth.uid(),
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  constraint artifacts_name_length check (char_length(name) between 1 and 300),
  constraint artifacts_kind_valid check (kind in ('text', 'json', 'file')),
  constraint artifacts_body_matches_kind check (
    (body_text is not null) = (kind = 'text')
    and (body_json is not null) = (kind = 'json')
    and (storage_path is not null) = (kind = 'file')
  ),
  constraint artifacts_storage_path_not_blank check (storage_path is null or char_length(storage_path) between 1 and 1024),
  constraint artifacts_size_bytes_nonnegative check (size_bytes is null or size_bytes >= 0),
  constraint artifacts_version_positive check (version >= 1),
  constraint artifacts_metadata_is_object check (jsonb_typeof(metadata) = 'object'),
  constraint artifacts_not_own_previous check (previous_version_id is distinct from id),
  constraint artifacts_project_name_version_key unique (project_id, name, version)
);

comment on table public.artifacts is 'Drafts produced by the pipeline: text, JSON, or a file in the flow-artifacts bucket.';
comment on column public.artifacts.storage_path is 'Object key inside the bucket flow-artifacts, e.g. proj/42/hero.png.';
comment on column public.artifacts.mime_type is 'As reported by the pipeline; may be missing or wrong.';

create index if not exists artifacts_project_created_idx on public.artifacts (project_id, created_at desc);
create index if not exists artifacts_previous_version_id_idx on public.artifacts (previous_version_id);
create index if not exists artifacts_storage_path_idx on public.artifacts (storage_path) where storage_path is not null;

create or replace trigger artifacts_set_updated_at
  before update on public.artifacts
  for each row execute function public.set_updated_at();

alter table public.artifacts enable row level security;
revoke all on table public.artifacts from anon;
grant select, insert, update, delete on table public.artifacts to authenticated;
grant all on table public.artifacts to service_role;

drop policy if exists artifacts_authenticated_all on public.artifacts;
create policy artifacts_authenticated_all on public.artifacts
  for all to authenticated using (true) with check (true);

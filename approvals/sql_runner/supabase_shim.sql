-- Supabase compatibility shim for plain PostgreSQL 15+.
-- Creates only what a Supabase database already has and this one lacks: the
-- roles anon, authenticated and service_role, auth.uid()/role()/jwt(), and
-- storage.buckets/objects shaped like Supabase's. apply_sql skips it on
-- Supabase. Roles are per cluster, schemas per database: a fresh database
-- on a cluster that has the roles still gets the schemas.

-- Two databases of one cluster prepared at once (parallel test workers) can
-- both find a role missing; the one that creates it second gets
-- unique_violation, which means the role is there.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    begin
      create role anon nologin noinherit;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    begin
      create role authenticated nologin noinherit;
    exception when duplicate_object or unique_violation then null;
    end;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    begin
      create role service_role nologin noinherit bypassrls;
    exception
      when duplicate_object or unique_violation then null;
      when insufficient_privilege then
        -- Managed PostgreSQL without a superuser: service_role then obeys RLS.
        create role service_role nologin noinherit;
        raise warning 'shim: created service_role without BYPASSRLS (needs a superuser); it is subject to row-level security here.';
    end;
  end if;
end;
$$;

-- Let the connecting role switch to the API roles, as Supabase's authenticator does.
do $$
begin
  execute format('grant anon, authenticated, service_role to %I', current_user);
exception
  when unique_violation then null;  -- granted at the same moment by another database's shim
  when insufficient_privilege or invalid_grant_operation then
  raise notice 'shim: could not grant the API roles to %: %', current_user, sqlerrm;
end;
$$;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;

-- As Supabase: the single claim setting first, then the claims JSON; null when neither is set.
do $$
begin
  if to_regprocedure('auth.uid()') is null then
    create function auth.uid() returns uuid language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
      )::uuid
    $f$;
  end if;
  if to_regprocedure('auth.role()') is null then
    create function auth.role() returns text language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim.role', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role'
      )::text
    $f$;
  end if;
  if to_regprocedure('auth.jwt()') is null then
    create function auth.jwt() returns jsonb language sql stable as $f$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $f$;
  end if;
end;
$$;
grant execute on function auth.uid(), auth.role(), auth.jwt() to anon, authenticated, service_role;

create schema if not exists storage;
grant usage on schema storage to anon, authenticated, service_role;

do $$
begin
  if to_regclass('storage.buckets') is null then
    create table storage.buckets (
      id                 text primary key,
      name               text not null,
      owner              uuid,
      owner_id           text,
      public             boolean default false,
      avif_autodetection boolean default false,
      file_size_limit    bigint,
      allowed_mime_types text[],
      created_at         timestamptz default now(),
      updated_at         timestamptz default now()
    );
    create unique index bname on storage.buckets (name);
    alter table storage.buckets enable row level security;
  end if;

  if to_regclass('storage.objects') is null then
    create table storage.objects (
      id               uuid primary key default gen_random_uuid(),
      bucket_id        text references storage.buckets (id),
      name             text,
      owner            uuid,
      owner_id         text,
      metadata         jsonb,
      user_metadata    jsonb,
      path_tokens      text[] generated always as (string_to_array(name, '/')) stored,
      version          text,
      created_at       timestamptz default now(),
      updated_at       timestamptz default now(),
      last_accessed_at timestamptz default now()
    );
    create unique index bucketid_objname on storage.objects (bucket_id, name);
    create index name_prefix_search on storage.objects (name text_pattern_ops);
    alter table storage.objects enable row level security;
  end if;
end;
$$;

grant select, insert, update, delete on storage.buckets, storage.objects to authenticated, service_role;

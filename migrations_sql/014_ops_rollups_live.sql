-- 014_ops_rollups_live.sql
-- apply_sql: replaces 010
-- 010's costs rollup, review targets and review items, applied to a live
-- database. 010 took SHARE ROW EXCLUSIVE on the five pipeline tables with its
-- foreign keys and triggers (approvals before artifacts: a deadlock with the
-- pipeline, which writes an artifact and then its approval), then held them
-- through its backfill: every write stopped for 40 s at 200k artifacts. Where
-- 010 is still pending apply_sql records it without running it and runs this
-- file, then 015 (the backfill, in batches that commit one by one). Where 010
-- was applied this file changes nothing but the grant below, and 015 finds
-- every item there (it only refreshes the rollup). The same end state as 010 (docs/apply-sql.md, "Files that
-- replace earlier ones"); never run 010 again by hand: its triggers on runs
-- are dropped and recreated, and its backfill runs again, under its locks.
--
-- What the rollup and the items are: see 010's header.
--
-- Short: catalog changes only, no rows. The pipeline's tables are locked
-- first, in the pipeline's own order, so that this file never holds a table
-- the pipeline writes later (approvals, runs) while waiting for one it writes
-- first (artifacts, jobs); apply_sql waits at most 0.2 s for each, then tries
-- the file again.

lock table public.projects, public.artifacts, public.jobs, public.approvals, public.runs in share row exclusive mode;

create table if not exists public.run_cost_days (
  day          date primary key,
  rolled_up_at timestamptz,
  changed_at   timestamptz
);

comment on table public.run_cost_days is
  'Days of runs summed in run_cost_rollup; a day with changed_at set is read from runs until summed again.';

create table if not exists public.run_cost_rollup (
  id                bigint generated always as identity primary key,
  day               date not null,
  dimension         text not null,
  key               text not null,
  runs              bigint not null,
  prompt_tokens     bigint not null,
  completion_tokens bigint not null,
  total_tokens      bigint not null,
  cost_usd          numeric(18, 6) not null,
  constraint run_cost_rollup_dimension_valid check (dimension in ('model', 'project', 'project_month', 'job')),
  constraint run_cost_rollup_one_row_per_key unique (day, dimension, key)
);

-- A period reads one dimension over a range of days.
create index if not exists run_cost_rollup_dimension_day_idx on public.run_cost_rollup (dimension, day);

comment on table public.run_cost_rollup is
  'Runs summed per UTC day by model, by project (empty key: no artifact), the day''s 20 costliest jobs; project_month: by project per month (day = its first day).';

create table if not exists public.review_targets (
  project_id   uuid primary key references public.projects (id) on delete cascade,
  target_hours integer not null,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint review_targets_hours_range check (target_hours between 1 and 8760)
);

comment on table public.review_targets is 'How long, in hours, an item of a project may wait for review.';

create or replace trigger review_targets_set_updated_at
  before update on public.review_targets
  for each row execute function public.set_updated_at();

-- One row per approval with what review analytics group by, so that their
-- pages read one narrow table instead of joining approvals to artifacts, jobs
-- and runs: the project (kept when an artifact moves), and, set when the
-- decision is made, the kind and params of the job that made the artifact,
-- the models of its runs and what they cost until then.
create table if not exists public.review_items (
  approval_id uuid primary key references public.approvals (id) on delete cascade,
  project_id  uuid not null,
  status      text not null,
  created_at  timestamptz not null,
  decided_at  timestamptz,
  decided_by  text,
  job_kind    text,
  prompt      text,
  models      text[] not null default '{}',
  cost_usd    numeric(18, 6) not null default 0,
  reasons     text[] not null default '{}',
  outcome     text
);

-- The decision's reason codes and outcome (009), on a database where an
-- earlier draft of this file made the table without them.
alter table public.review_items add column if not exists reasons text[] not null default '{}';
alter table public.review_items add column if not exists outcome text;

comment on table public.review_items is
  'Approvals with their project, job kind, prompt, models, cost, reason codes and outcome: what review analytics group by.';

create index if not exists review_items_pending_idx on public.review_items (project_id, created_at)
  where status = 'pending';
create index if not exists review_items_decided_idx on public.review_items (decided_at)
  where status <> 'pending';

-- Which artifacts' jobs made what an approval decides: its artifact's; for an
-- approved edit, also the draft it edits (its jobs move to the edit in the same
-- transaction, after the edit's approval is written); for the draft an edit
-- replaced, none (its cost counts once, on the edit's approval).
create or replace function public.review_item_artifacts(artifact uuid, edit_of uuid, outcome text)
returns uuid[] language sql immutable set search_path = '' as $$
  select case outcome when 'approved_with_edits' then array[artifact, edit_of]
                      when 'replaced_by_edit' then '{}'::uuid[]
                      else array[artifact] end
$$;

-- What those artifacts cost to make: every job that made them (retries too), the newest one's kind and params.
drop function if exists public.review_item_work(uuid);
create or replace function public.review_item_work(artifacts uuid[])
returns table (job_kind text, params text, models text[], cost_usd numeric)
language sql stable set search_path = '' as $$
  select (array_agg(j.kind order by j.created_at desc))[1],
         (array_agg(j.params::text order by j.created_at desc))[1],
         coalesce((select array_agg(distinct r.model order by r.model)
                     from public.runs r join public.jobs rj on rj.id = r.job_id
                    where rj.output_artifact_id = any(artifacts)), '{}'),
         coalesce((select sum(r.cost_usd)
                     from public.runs r join public.jobs rj on rj.id = r.job_id
                    where rj.output_artifact_id = any(artifacts)), 0)
    from public.jobs j
   where j.output_artifact_id = any(artifacts)
$$;

-- A pending item carries its project, arrival and reason fields only; a
-- decided one also the work that made its artifact, as it stood at the decision.
create or replace function public.approvals_keep_review_items() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.status = 'pending' then
    insert into public.review_items as item
           (approval_id, project_id, status, created_at, decided_at, decided_by, reasons, outcome)
    select new.id, a.project_id, new.status, new.created_at, new.decided_at, new.decided_by, new.reasons, new.outcome
      from public.artifacts a where a.id = new.artifact_id
    on conflict (approval_id) do update
       set status = excluded.status, decided_at = excluded.decided_at, decided_by = excluded.decided_by,
           job_kind = null, prompt = null, models = '{}', cost_usd = 0,
           reasons = excluded.reasons, outcome = excluded.outcome;
    return null;
  end if;
  insert into public.review_items as item
         (approval_id, project_id, status, created_at, decided_at, decided_by, job_kind, prompt, models, cost_usd,
          reasons, outcome)
  select new.id, a.project_id, new.status, new.created_at, new.decided_at, new.decided_by, w.job_kind,
         coalesce(a.metadata ->> 'prompt', w.params), w.models, w.cost_usd, new.reasons, new.outcome
    from public.artifacts a
   cross join public.review_item_work(public.review_item_artifacts(a.id, a.previous_version_id, new.outcome)) w
   where a.id = new.artifact_id
  on conflict (approval_id) do update
     set status = excluded.status, decided_at = excluded.decided_at, decided_by = excluded.decided_by,
         job_kind = excluded.job_kind, prompt = excluded.prompt, models = excluded.models,
         cost_usd = excluded.cost_usd, reasons = excluded.reasons, outcome = excluded.outcome;
  return null;
end;
$$;

create or replace function public.artifacts_move_review_items() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.review_items i set project_id = new.project_id
    from public.approvals p
   where p.artifact_id = new.id and i.approval_id = p.id;
  return null;
end;
$$;

-- The first day still read live: today (UTC), and yesterday until 01:00, so
-- that a transaction writing runs just before midnight has committed before
-- its day is summed. The clock, not now(): a long transaction must not think
-- an earlier day is still open.
create or replace function public.run_cost_open_from() returns date
language sql volatile set search_path = '' as $$
  select ((clock_timestamp() at time zone 'UTC') - interval '1 hour')::date
$$;

-- Stamps closed days as changed, in day order (one lock order for every writer).
create or replace function public.run_cost_days_changed(days date[]) returns void
language sql volatile set search_path = '' as $$
  insert into public.run_cost_days as d (day, changed_at)
  select distinct changed.day, clock_timestamp()
    from unnest(days) as changed(day)
   where changed.day < public.run_cost_open_from()
   order by changed.day
  on conflict (day) do update set changed_at = excluded.changed_at
$$;

-- Row triggers with a WHEN clause (below): a run of an open day, which is
-- every run the pipeline logs as it goes, never calls this function.
create or replace function public.runs_stamp_cost_days() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op in ('UPDATE', 'DELETE') then
    perform public.run_cost_days_changed(array[(old.created_at at time zone 'UTC')::date]);
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    perform public.run_cost_days_changed(array[(new.created_at at time zone 'UTC')::date]);
  end if;
  return null;
end;
$$;

create or replace function public.runs_truncated_clear_cost_days() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  delete from public.run_cost_rollup;
  delete from public.run_cost_days;
  return null;
end;
$$;

-- A job's runs count for the project of its output artifact, else of its input artifact.
create or replace function public.jobs_stamp_cost_days() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform public.run_cost_days_changed(array(
    select (created_at at time zone 'UTC')::date from public.runs
     where job_id = new.id and created_at < public.run_cost_open_from()::timestamp at time zone 'UTC'));
  return null;
end;
$$;

create or replace function public.artifacts_stamp_cost_days() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform public.run_cost_days_changed(array(
    select (r.created_at at time zone 'UTC')::date
      from public.jobs j join public.runs r on r.job_id = j.id
     where (j.output_artifact_id = new.id or j.input_artifact_id = new.id)
       and r.created_at < public.run_cost_open_from()::timestamp at time zone 'UTC'));
  return null;
end;
$$;

-- The WHEN clauses say "before the first open day" (run_cost_open_from(), spelled out: a
-- trigger's WHEN is evaluated for every row, and a plain expression costs next to nothing).
create or replace trigger runs_inserted_stamp_cost_days
  after insert on public.runs for each row
  when (new.created_at < date_trunc('day', (clock_timestamp() at time zone 'UTC') - interval '1 hour') at time zone 'UTC')
  execute function public.runs_stamp_cost_days();
create or replace trigger runs_updated_stamp_cost_days
  after update on public.runs for each row
  when (old.created_at < date_trunc('day', (clock_timestamp() at time zone 'UTC') - interval '1 hour') at time zone 'UTC'
        or new.created_at < date_trunc('day', (clock_timestamp() at time zone 'UTC') - interval '1 hour') at time zone 'UTC')
  execute function public.runs_stamp_cost_days();
create or replace trigger runs_deleted_stamp_cost_days
  after delete on public.runs for each row
  when (old.created_at < date_trunc('day', (clock_timestamp() at time zone 'UTC') - interval '1 hour') at time zone 'UTC')
  execute function public.runs_stamp_cost_days();
create or replace trigger runs_truncated_clear_cost_days
  after truncate on public.runs
  for each statement execute function public.runs_truncated_clear_cost_days();
create or replace trigger jobs_artifacts_changed_stamp_cost_days
  after update of output_artifact_id, input_artifact_id on public.jobs
  for each row
  when (old.output_artifact_id is distinct from new.output_artifact_id
        or old.input_artifact_id is distinct from new.input_artifact_id)
  execute function public.jobs_stamp_cost_days();
create or replace trigger approvals_keep_review_items
  after insert or update of status, decided_at, decided_by, reasons, outcome on public.approvals
  for each row execute function public.approvals_keep_review_items();
create or replace trigger artifacts_project_changed_move_review_items
  after update of project_id on public.artifacts
  for each row when (old.project_id is distinct from new.project_id)
  execute function public.artifacts_move_review_items();
create or replace trigger artifacts_project_changed_stamp_cost_days
  after update of project_id on public.artifacts
  for each row when (old.project_id is distinct from new.project_id)
  execute function public.artifacts_stamp_cost_days();

-- Sums every closed day that is missing or changed; returns how many. One at a
-- time (an advisory lock), and in read committed each statement below sees
-- what writers committed while the day's stamp was being cleared.
create or replace function public.refresh_run_cost_rollup() returns integer
language plpgsql volatile set search_path = '' as $$
declare
  open_from date := public.run_cost_open_from();
  todo date[];
begin
  perform pg_advisory_xact_lock(hashtext('public.refresh_run_cost_rollup'));
  select array_agg(day order by day) into todo from (
    select generate_series(
             (select (min(created_at) at time zone 'UTC')::date from public.runs),
             open_from - 1, interval '1 day')::date as day
    union
    select day from public.run_cost_days where changed_at is not null and day < open_from
    except
    select day from public.run_cost_days where rolled_up_at is not null and changed_at is null
  ) pending;
  if todo is null then
    return 0;
  end if;
  insert into public.run_cost_days as d (day, rolled_up_at, changed_at)
  select day, clock_timestamp(), null from unnest(todo) as t(day) order by day
  on conflict (day) do update set rolled_up_at = excluded.rolled_up_at, changed_at = null;
  delete from public.run_cost_rollup where day = any(todo);
  insert into public.run_cost_rollup
         (day, dimension, key, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd)
  select day,
         case when grouping(model) = 0 then 'model' else 'project' end,
         case when grouping(model) = 0 then model else coalesce(project_id::text, '') end,
         count(*), sum(prompt_tokens), sum(completion_tokens), coalesce(sum(total_tokens), 0),
         coalesce(sum(cost_usd), 0)
    from (
      select t.day, r.model, a.project_id, r.prompt_tokens, r.completion_tokens, r.total_tokens, r.cost_usd
        from unnest(todo) as t(day)
        join public.runs r on r.created_at >= t.day::timestamp at time zone 'UTC'
                          and r.created_at < (t.day + 1)::timestamp at time zone 'UTC'
        join public.jobs j on j.id = r.job_id
        left join public.artifacts a on a.id = coalesce(j.output_artifact_id, j.input_artifact_id)
    ) day_runs
   group by grouping sets ((day, model), (day, project_id));
  -- The day's 20 costliest jobs: the costliest (job, day) pairs of any period are among them.
  insert into public.run_cost_rollup
         (day, dimension, key, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd)
  select day, 'job', job_id::text, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd
    from (
      select t.day, r.job_id, count(*) as runs, sum(r.prompt_tokens) as prompt_tokens,
             sum(r.completion_tokens) as completion_tokens, coalesce(sum(r.total_tokens), 0) as total_tokens,
             coalesce(sum(r.cost_usd), 0) as cost_usd,
             row_number() over (partition by t.day order by coalesce(sum(r.cost_usd), 0) desc, r.job_id) as rank
        from unnest(todo) as t(day)
        join public.runs r on r.created_at >= t.day::timestamp at time zone 'UTC'
                          and r.created_at < (t.day + 1)::timestamp at time zone 'UTC'
       group by t.day, r.job_id
    ) ranked
   where rank <= 20;
  -- Months holding a day summed again, from their days' rows (a month is read only when all its days are current).
  delete from public.run_cost_rollup
   where dimension = 'project_month' and day in (select distinct date_trunc('month', d)::date from unnest(todo) d);
  insert into public.run_cost_rollup
         (day, dimension, key, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd)
  select date_trunc('month', day)::date, 'project_month', key,
         sum(runs), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cost_usd)
    from public.run_cost_rollup
   where dimension = 'project'
     and date_trunc('month', day)::date in (select distinct date_trunc('month', d)::date from unnest(todo) d)
   group by 1, 3;
  return cardinality(todo);
end;
$$;

-- Every approval's review item rebuilt from approvals, artifacts, jobs and
-- runs in one pass: the migration's backfill, and seed_bulk's after it loads
-- rows with the triggers off. Returns the number of items.
create or replace function public.rebuild_review_items() returns bigint
language plpgsql volatile set search_path = '' as $$
declare
  items bigint;
  edits bigint;
begin
  delete from public.review_items;
  insert into public.review_items
         (approval_id, project_id, status, created_at, decided_at, decided_by, job_kind, prompt, models, cost_usd,
          reasons, outcome)
  select p.id, a.project_id, p.status, p.created_at, p.decided_at, p.decided_by, work.job_kind,
         case when p.status <> 'pending' then coalesce(a.metadata ->> 'prompt', work.params) end,
         coalesce(work.models, '{}'), coalesce(work.cost_usd, 0), p.reasons, p.outcome
    from public.approvals p
    join public.artifacts a on a.id = p.artifact_id
    left join (
          -- Nearly every approval's work is its own artifact's: grouped once by artifact.
          select j.output_artifact_id,
                 (array_agg(j.kind order by j.created_at desc))[1] as job_kind,
                 (array_agg(j.params::text order by j.created_at desc))[1] as params,
                 array_remove(array_agg(distinct r.model order by r.model), null) as models,
                 sum(r.cost_usd) as cost_usd
            from public.jobs j
            left join public.runs r on r.job_id = j.id
           where j.output_artifact_id is not null
           group by j.output_artifact_id
         ) work on work.output_artifact_id = p.artifact_id and p.status <> 'pending'
                and p.outcome is distinct from 'approved_with_edits'
                and p.outcome is distinct from 'replaced_by_edit'
   where p.outcome is distinct from 'approved_with_edits';
  get diagnostics items = row_count;
  -- The few approved edits: their work spans two artifacts, as the trigger reads it.
  insert into public.review_items
         (approval_id, project_id, status, created_at, decided_at, decided_by, job_kind, prompt, models, cost_usd,
          reasons, outcome)
  select p.id, a.project_id, p.status, p.created_at, p.decided_at, p.decided_by, w.job_kind,
         coalesce(a.metadata ->> 'prompt', w.params), w.models, w.cost_usd, p.reasons, p.outcome
    from public.approvals p
    join public.artifacts a on a.id = p.artifact_id
   cross join public.review_item_work(public.review_item_artifacts(a.id, a.previous_version_id, p.outcome)) w
   where p.outcome = 'approved_with_edits';
  get diagnostics edits = row_count;
  return items + edits;
end;
$$;

-- The approvals already there, and the closed days already in runs: 015
-- calls this outside a transaction, and each batch commits on its own, so
-- no lock is held for long. Review items that the trigger above writes
-- meanwhile are kept (an item is only ever inserted here, never replaced);
-- the rows are rebuild_review_items()'s, one batch of approvals at a time.
-- No SET clause (a procedure with one may not commit): every name is qualified.
create or replace procedure public.backfill_ops_rollups(batch_size integer default 5000)
language plpgsql as $$
declare
  last_id uuid;
  batch uuid[];
begin
  loop
    select array_agg(id order by id) into batch
      from (select p.id from public.approvals p
             where last_id is null or p.id > last_id
             order by p.id limit batch_size) next_approvals;
    exit when batch is null;
    last_id := batch[cardinality(batch)];
    insert into public.review_items
           (approval_id, project_id, status, created_at, decided_at, decided_by, job_kind, prompt, models, cost_usd,
            reasons, outcome)
    select p.id, a.project_id, p.status, p.created_at, p.decided_at, p.decided_by, work.job_kind,
           case when p.status <> 'pending' then coalesce(a.metadata ->> 'prompt', work.params) end,
           coalesce(work.models, '{}'), coalesce(work.cost_usd, 0), p.reasons, p.outcome
      from public.approvals p
      join public.artifacts a on a.id = p.artifact_id
      cross join lateral (
            select (array_agg(j.kind order by j.created_at desc))[1] as job_kind,
                   (array_agg(j.params::text order by j.created_at desc))[1] as params,
                   array_remove(array_agg(distinct r.model order by r.model), null) as models,
                   sum(r.cost_usd) as cost_usd
              from public.jobs j
              left join public.runs r on r.job_id = j.id
             where j.output_artifact_id = p.artifact_id and p.status <> 'pending'
               and p.outcome is distinct from 'replaced_by_edit'
           ) work
     where p.id = any(batch)
       and p.outcome is distinct from 'approved_with_edits'
       and not exists (select from public.review_items i where i.approval_id = p.id)
    on conflict (approval_id) do nothing;
    -- The few approved edits: their work spans two artifacts, as the trigger reads it.
    insert into public.review_items
           (approval_id, project_id, status, created_at, decided_at, decided_by, job_kind, prompt, models, cost_usd,
            reasons, outcome)
    select p.id, a.project_id, p.status, p.created_at, p.decided_at, p.decided_by, w.job_kind,
           coalesce(a.metadata ->> 'prompt', w.params), w.models, w.cost_usd, p.reasons, p.outcome
      from public.approvals p
      join public.artifacts a on a.id = p.artifact_id
     cross join public.review_item_work(public.review_item_artifacts(a.id, a.previous_version_id, p.outcome)) w
     where p.id = any(batch)
       and p.outcome = 'approved_with_edits'
       and not exists (select from public.review_items i where i.approval_id = p.id)
    on conflict (approval_id) do nothing;
    commit;
  end loop;
  -- A refresh already running (the ops console's) holds its advisory lock: wait for it, however long;
  -- nothing the pipeline does waits on that lock.
  perform set_config('lock_timeout', '0', true);
  perform public.refresh_run_cost_rollup();
  commit;
  analyze public.review_items, public.run_cost_rollup, public.run_cost_days;
end;
$$;

-- The trigger functions run as their owner (security definer, empty search
-- path), so a role that writes runs, jobs, artifacts or approvals needs no
-- privilege on the tables they keep. The helpers are not an API: only the
-- owner (and service_role, for refreshing the rollup) may call them.
revoke execute on function public.run_cost_open_from(), public.run_cost_days_changed(date[]),
  public.refresh_run_cost_rollup(), public.review_item_work(uuid[]), public.review_item_artifacts(uuid, uuid, text),
  public.rebuild_review_items()
  from public, anon, authenticated;
revoke execute on procedure public.backfill_ops_rollups(integer) from public, anon, authenticated;
grant execute on function public.refresh_run_cost_rollup() to service_role;
-- refresh_run_cost_rollup() runs as its caller and asks run_cost_open_from()
-- which day is still open: without this, service_role got "permission denied
-- for function run_cost_open_from" (010 granted the one and not the other).
grant execute on function public.run_cost_open_from() to service_role;

alter table public.run_cost_days enable row level security;
alter table public.run_cost_rollup enable row level security;
alter table public.review_targets enable row level security;
alter table public.review_items enable row level security;
-- From authenticated too: Supabase's default privileges would also give it TRUNCATE, REFERENCES and TRIGGER.
revoke all on table public.run_cost_days, public.run_cost_rollup, public.review_targets, public.review_items
  from anon, authenticated;
grant select, insert, update, delete on table public.run_cost_days, public.run_cost_rollup,
  public.review_targets, public.review_items to authenticated;
grant all on table public.run_cost_days, public.run_cost_rollup, public.review_targets, public.review_items
  to service_role;

drop policy if exists run_cost_days_authenticated_all on public.run_cost_days;
create policy run_cost_days_authenticated_all on public.run_cost_days
  for all to authenticated using (true) with check (true);
drop policy if exists run_cost_rollup_authenticated_all on public.run_cost_rollup;
create policy run_cost_rollup_authenticated_all on public.run_cost_rollup
  for all to authenticated using (true) with check (true);
drop policy if exists review_items_authenticated_all on public.review_items;
create policy review_items_authenticated_all on public.review_items
  for all to authenticated using (true) with check (true);
drop policy if exists review_targets_authenticated_all on public.review_targets;
create policy review_targets_authenticated_all on public.review_targets
  for all to authenticated using (true) with check (true);

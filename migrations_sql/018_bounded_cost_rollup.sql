-- 018_bounded_cost_rollup.sql
-- The costs rollup over the days that have runs, whatever dates the pipeline
-- writes. refresh_run_cost_rollup() summed every day of a generate_series from
-- the first run's day: a run at -infinity made that series endless (the costs
-- dashboard hung for good, every later view queued behind its advisory lock),
-- and a run dated year 1 made it 740,000 days (14.5 s once, then 2.6 s on
-- every view to find nothing new). Now the days come from the runs' own index,
-- one probe per day that has runs; runs PostgreSQL dates outside the years
-- 1..9999 (infinity, -infinity, BC, after 9999) belong to no day of any
-- report (no report can ask for such a day) and are never stamped as one.
--
-- Live-safe: functions replaced in place, no table locked, no rows read.

-- The UTC days before `before` on which runs were created, walking runs_created_at_idx one day at a
-- time (a loose index scan): as many probes as days with runs, however far apart.
create or replace function public.run_cost_days_with_runs(before date) returns setof date
language sql stable set search_path = '' as $$
  with recursive days(day) as (
    select (min(created_at) at time zone 'UTC')::date from public.runs
     where created_at >= timestamptz '0001-01-01 00:00:00+00'
       and created_at < least(timestamptz '10000-01-01 00:00:00+00', before::timestamp at time zone 'UTC')
    union all
    select (select (min(r.created_at) at time zone 'UTC')::date from public.runs r
             where r.created_at >= (days.day + 1)::timestamp at time zone 'UTC'
               and r.created_at < least(timestamptz '10000-01-01 00:00:00+00', before::timestamp at time zone 'UTC'))
      from days
     where days.day is not null
  )
  select day from days where day is not null
$$;

-- Stamps closed days as changed, in day order (one lock order for every writer); days outside
-- the years 1..9999 are no day of any report.
create or replace function public.run_cost_days_changed(days date[]) returns void
language sql volatile set search_path = '' as $$
  insert into public.run_cost_days as d (day, changed_at)
  select distinct changed.day, clock_timestamp()
    from unnest(days) as changed(day)
   where changed.day < public.run_cost_open_from()
     and changed.day >= date '0001-01-01' and changed.day <= date '9999-12-31'
   order by changed.day
  on conflict (day) do update set changed_at = excluded.changed_at
$$;

-- As 010's, with the days to sum from run_cost_days_with_runs().
create or replace function public.refresh_run_cost_rollup() returns integer
language plpgsql volatile set search_path = '' as $$
declare
  open_from date := public.run_cost_open_from();
  todo date[];
begin
  perform pg_advisory_xact_lock(hashtext('public.refresh_run_cost_rollup'));
  select array_agg(day order by day) into todo from (
    select day from public.run_cost_days_with_runs(open_from) as with_runs(day)
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

revoke execute on function public.run_cost_days_with_runs(date) from public, anon, authenticated;
-- refresh_run_cost_rollup() runs as its caller: service_role, which 010 lets refresh the rollup,
-- needs the helpers it calls (010 granted the one and not the other: "permission denied for
-- function run_cost_open_from").
grant execute on function public.run_cost_days_with_runs(date), public.run_cost_open_from() to service_role;

-- Days stamped before this file from runs outside the years 1..9999: no report reads them.
delete from public.run_cost_days where not (day >= date '0001-01-01' and day <= date '9999-12-31');
delete from public.run_cost_rollup where not (day >= date '0001-01-01' and day <= date '9999-12-31');

"""The SQL behind `manage.py seed_bulk`: inlined helper functions and one INSERT ... SELECT per table.

Each statement reads generate_series and computes every column from the row's
number; the lists of words and prices are parameters (see approvals.seeding.bulk).
"""

SPAN_SECONDS = 365 * 24 * 3600
FOLLOW_UP_EVERY = 25


def functions_sql(*, artifacts: int, pending: int) -> str:
    """Helpers as SQL functions PostgreSQL inlines, so the statements read like the rules in approvals.seeding.bulk.

    Only integers from the plan are formatted into the text; lists of words are parameters.
    """
    n, decided = int(artifacts), int(artifacts - pending)
    return _SHAPE_FUNCTIONS + _decision_functions(n=n, decided=decided) + _job_functions(decided=decided)


# Random-looking and repeatable numbers, ids and the shape of each artifact.
_SHAPE_FUNCTIONS = """
create or replace function pg_temp.rnd(i bigint, salt int, m int) returns int
  language sql immutable
  as $$ select mod(hashint8(i * 1000 + salt) & 2147483647, m) $$;

create or replace function pg_temp.pick(choices anyarray, i bigint, salt int) returns anyelement
  language sql immutable
  as $$ select choices[1 + pg_temp.rnd(i, salt, cardinality(choices))] $$;

-- Version 4 layout, random-looking and repeatable: artifact i's id is known to
-- every table without a join.
create or replace function pg_temp.uid(tag text, i bigint) returns uuid
  language sql immutable
  as $$ select overlay(overlay(md5(tag || i::text) placing '4' from 13) placing '8' from 17)::uuid $$;

-- v1 of artifact i's version family, and its version: in each block of ten,
-- the 9th and 10th artifacts revise the 8th.
create or replace function pg_temp.family(i bigint) returns bigint
  language sql immutable
  as $$ select i - case mod(i - 1, 10) when 8 then 1 when 9 then 2 else 0 end $$;

create or replace function pg_temp.version(i bigint) returns int
  language sql immutable
  as $$ select case mod(i - 1, 10) when 8 then 2 when 9 then 3 else 1 end $$;

create or replace function pg_temp.kind(i bigint) returns text
  language sql immutable
  as $$ select case when pg_temp.rnd(pg_temp.family(i), 3, 100) < 45 then 'text'
                    when pg_temp.rnd(pg_temp.family(i), 3, 100) < 70 then 'json' else 'file' end $$;

"""


def _decision_functions(*, n: int, decided: int) -> str:
    return f"""
-- Oldest first, spread over the last year.
create or replace function pg_temp.created(i bigint) returns timestamptz
  language sql stable
  as $$ select now() - make_interval(secs => {SPAN_SECONDS}::float8 * ({n} - i + 1) / {n} + pg_temp.rnd(i, 1, 600)) $$;

create or replace function pg_temp.approval_status(i bigint) returns text
  language sql immutable
  as $$ select case
    when i > {decided} then 'pending'
    when mod(i - 1, 10) in (7, 8) and i < {n} then 'rejected'
    when pg_temp.rnd(i, 9, 100) < 12 then 'rejected'
    else 'approved' end $$;

create or replace function pg_temp.decided_at(i bigint) returns timestamptz
  language sql stable
  as $$ select least(now(), pg_temp.created(i) + make_interval(secs => 600 + pg_temp.rnd(i, 10, 172800))) $$;

create or replace function pg_temp.decision_notes(i bigint, approve_notes text[], reject_notes text[]) returns text
  language sql immutable
  as $$ select case pg_temp.approval_status(i)
    when 'rejected' then pg_temp.pick(reject_notes, i, 12)
    when 'approved' then case when pg_temp.rnd(i, 13, 10) < 6 then null else pg_temp.pick(approve_notes, i, 12) end
    end $$;

"""  # noqa: S608 only integers from the plan are formatted in


def _job_functions(*, decided: int) -> str:
    return f"""
create or replace function pg_temp.is_follow_up(i bigint) returns boolean
  language sql immutable
  as $$ select i <= {decided} and mod(i, {FOLLOW_UP_EVERY}) = 0 $$;

create or replace function pg_temp.job_status(i bigint) returns text
  language sql immutable
  as $$ select case
    when pg_temp.is_follow_up(i) then case
      when pg_temp.rnd(i, 20, 100) < 35 then 'queued'
      when pg_temp.rnd(i, 20, 100) < 60 then 'running'
      when pg_temp.rnd(i, 20, 100) < 85 then 'failed'
      else 'done' end
    when pg_temp.approval_status(i) = 'pending' then 'needs_approval'
    when pg_temp.approval_status(i) = 'approved' then 'done'
    else 'failed' end $$;

-- A job is created minutes before its artifact; a follow-up job after the
-- artifact it takes as input (the unfinished ones in the last three days).
create or replace function pg_temp.job_created(i bigint) returns timestamptz
  language sql stable
  as $$ select case
    when not pg_temp.is_follow_up(i) then pg_temp.created(i) - make_interval(secs => 120 + pg_temp.rnd(i, 14, 1080))
    when pg_temp.job_status(i) in ('queued', 'running')
      then now() - make_interval(secs => 60 + pg_temp.rnd(i, 15, 259200))
    else least(now() - interval '1 hour', pg_temp.created(i) + make_interval(secs => 3600 + pg_temp.rnd(i, 15, 86400)))
    end $$;

create or replace function pg_temp.job_started(i bigint) returns timestamptz
  language sql stable
  as $$ select case when pg_temp.job_status(i) = 'queued' then null
    else pg_temp.job_created(i) + make_interval(secs => 2 + pg_temp.rnd(i, 16, 40)) end $$;
"""  # noqa: S608 only integers from the plan are formatted in


PROJECTS = """
insert into projects (id, name, description, created_at, updated_at)
select pg_temp.uid('p', p),
       brand || ' — ' || campaign,
       campaign || ' for ' || brand || ': posts, visuals and schedules drafted by the pipeline.',
       now() - interval '400 days' + make_interval(mins => p::int),
       now() - interval '400 days' + make_interval(mins => p::int)
  from generate_series(1, %(projects)s::bigint) p,
       lateral (select pg_temp.pick(%(brands)s::text[], p, 1) as brand,
                       pg_temp.pick(%(campaigns)s::text[], p, 2) as campaign) b
"""

# Rows go in in creation order, as the pipeline appends them: the physical
# layout (and so the cost of a date range) is that of a real table.
ARTIFACTS = """
insert into artifacts (id, project_id, name, kind, body_text, body_json, storage_path, mime_type,
                              size_bytes, version, previous_version_id, metadata, created_at, updated_at)
select pg_temp.uid('a', i),
       pg_temp.uid('p', project),
       case kind
         when 'file' then topic || '-' || (%(file_labels)s::text[])[ft] || '-' || f
                          || '.' || (%(file_exts)s::text[])[ft]
         when 'json' then topic || '-' || platform || '-spec-' || f
         else topic || '-' || platform || '-post-' || f end,
       kind,
       case when kind = 'text' then
         pg_temp.pick(%(openers)s::text[], i, 6) || ' ' || replace(topic, '-', ' ') || ', for ' || platform || '. '
         || pg_temp.pick(%(closers)s::text[], i, 7) || ' #' || replace(topic, '-', '')
         || case when version > 1 then ' (rev ' || version || ')' else '' end
       end,
       case when kind <> 'json' then null
            when pg_temp.rnd(f, 8, 20) = 0 then to_jsonb('Post on ' || platform || ' at 9am')
            else jsonb_build_object(
              'platform', platform,
              'headline', initcap(replace(topic, '-', ' ')),
              'hashtags', jsonb_build_array('#' || replace(topic, '-', ''), '#' || platform),
              'slides', 1 + pg_temp.rnd(i, 9, 6)) end,
       case when kind = 'file' then
         'proj/' || project || '/' || topic || '-' || (%(file_labels)s::text[])[ft] || '-' || f || '-v' || version
         || '.' || (%(file_exts)s::text[])[ft] end,
       case when kind = 'file' then (%(file_mimes)s::text[])[ft] end,
       case when kind = 'file' then (%(file_min)s::bigint[])[ft]
         + pg_temp.rnd(i, 10, ((%(file_max)s::bigint[])[ft] - (%(file_min)s::bigint[])[ft])::int) end,
       version,
       case when version > 1 then pg_temp.uid('a', i - 1) end,
       jsonb_build_object('platform', platform, 'tags', jsonb_build_array(topic)),
       created,
       created
  from generate_series(1, %(artifacts)s::bigint) i,
       lateral (select pg_temp.family(i) as f, pg_temp.version(i) as version, pg_temp.kind(i) as kind,
                       pg_temp.created(i) as created) v,
       lateral (select 1 + pg_temp.rnd(f, 2, %(projects)s) as project,
                       1 + pg_temp.rnd(f, 4, cardinality(%(file_exts)s::text[])) as ft,
                       pg_temp.pick(%(topics)s::text[], f, 5) as topic,
                       pg_temp.pick(%(platforms)s::text[], f, 11) as platform) k
"""

APPROVALS = """
insert into approvals (id, artifact_id, status, notes, decided_by, decided_at, created_at, updated_at)
select pg_temp.uid('v', i),
       pg_temp.uid('a', i),
       status,
       pg_temp.decision_notes(i, %(approve_notes)s, %(reject_notes)s),
       case when status <> 'pending' then pg_temp.pick(%(reviewers)s::text[], i, 11) end,
       case when status <> 'pending' then pg_temp.decided_at(i) end,
       pg_temp.created(i) + interval '1 second',
       case when status <> 'pending' then pg_temp.decided_at(i) else pg_temp.created(i) + interval '1 second' end
  from generate_series(1, %(artifacts)s::bigint) i,
       lateral (select pg_temp.approval_status(i) as status) s
"""

# Job i produced artifact i, or (follow-up) takes it as input. A rejected
# artifact's job failed with the reviewer's reason, as the decision service writes it.
JOBS = """
insert into jobs (id, kind, status, input_artifact_id, output_artifact_id, params, error, attempts,
                         started_at, finished_at, created_at, updated_at)
select pg_temp.uid('j', i),
       case when follow_up then pg_temp.pick(%(follow_up_kinds)s::text[], i, 21)
            when pg_temp.kind(i) = 'text' then 'draft_post'
            when pg_temp.kind(i) = 'json' then 'plan_campaign'
            else (%(file_jobs)s::text[])[1 + pg_temp.rnd(pg_temp.family(i), 4, cardinality(%(file_jobs)s::text[]))]
       end,
       status,
       case when follow_up then pg_temp.uid('a', i) when pg_temp.version(i) > 1 then pg_temp.uid('a', i - 1) end,
       case when not follow_up then pg_temp.uid('a', i) end,
       jsonb_build_object('platform', pg_temp.pick(%(platforms)s::text[], pg_temp.family(i), 11)),
       case when status = 'failed' and follow_up then pg_temp.pick(%(follow_up_errors)s::text[], i, 22)
            when status = 'failed' then 'Rejected by ' || pg_temp.pick(%(reviewers)s::text[], i, 11) || ': '
                                        || pg_temp.decision_notes(i, %(approve_notes)s, %(reject_notes)s) end,
       case when status = 'queued' then 0
            when status = 'failed' and follow_up then 1 + pg_temp.rnd(i, 23, 3)
            else 1 + (pg_temp.rnd(i, 23, 10) = 0)::int end,
       started,
       case when status not in ('done', 'failed') then null
            when follow_up then started + make_interval(secs => 30 + pg_temp.rnd(i, 24, 600))
            else greatest(pg_temp.decided_at(i), started) end,
       created,
       case when status in ('done', 'failed') and not follow_up then greatest(pg_temp.decided_at(i), started)
            else coalesce(started, created) end
  from generate_series(1, %(artifacts)s::bigint) i,
       lateral (select pg_temp.is_follow_up(i) as follow_up, pg_temp.job_status(i) as status,
                       pg_temp.job_created(i) as created, pg_temp.job_started(i) as started
                offset 0) f
 order by created
"""

# Three runs per job slot (draft, critique, final); a queued job has not run
# yet, so its slot's runs belong to the job before it. What depends only on the
# job is computed once per job, not once per run.
RUNS = """
with job_slots as materialized (
    select slot, j, pg_temp.uid('j', j) as job_id, pg_temp.job_started(j) as started
      from generate_series(1, %(artifacts)s::bigint) slot,
           lateral (select case when pg_temp.job_status(slot) = 'queued' then slot - 1 else slot end as j
                    -- offset 0 keeps j a plain value, so PostgreSQL can inline job_started(j).
                    offset 0) s
)
insert into runs (id, job_id, model, provider, prompt_tokens, completion_tokens, duration_ms, cost_usd,
                         metadata, created_at)
select pg_temp.uid('r', r),
       job_id,
       (%(models)s::text[])[model],
       (%(providers)s::text[])[model],
       prompt,
       completion,
       250 + completion * (%(ms)s::int[])[model] + pg_temp.rnd(r, 33, 900),
       round((prompt * (%(prompt_prices)s::numeric[])[model]
              + completion * (%(completion_prices)s::numeric[])[model]) / 1000000, 6),
       jsonb_build_object('step', (%(steps)s::text[])[1 + step]),
       least(now(), started + make_interval(secs => step * 45 + pg_temp.rnd(r, 34, 40)))
  from job_slots,
       generate_series(0, 2) step,
       lateral (select (slot - 1) * 3 + step as r) n,
       lateral (select 1 + pg_temp.rnd(r, 30, cardinality(%(models)s::text[])) as model,
                       300 + pg_temp.rnd(r, 31, 6000) as prompt,
                       40 + pg_temp.rnd(r, 32, 1400) as completion) m
 order by 10
"""

"""What the costs dashboard reads: tokens and cost of runs in a date range, summed in SQL.

Closed days come from the daily rollup of 010_ops_rollups.sql, the others
from runs bounded by `runs.created_at` (indexed), so a year costs about what
two days do.
"""

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from approvals.admin.big_tables import artifact_content
from approvals.models import Approval, ApprovalStatus, Job, JobStatus, Project
from approvals.reporting.periods import Period
from approvals.selectors.run_totals import RunTotals

# The costs tables name each job and its artifact; they never show content.
UNSHOWN_JOB_COLUMNS = ("params", *artifact_content("output_artifact"))


@dataclass(frozen=True)
class UsageRow:
    key: object
    label: str
    usage: RunTotals


@dataclass(frozen=True)
class TopJob:
    job: Job
    day: date  # a job's runs on one day: the rollup ranks (job, day) pairs
    usage: RunTotals
    # "Rejected" for a job failed by the rejection of its output, not by a crash.
    status_label: str


@dataclass(frozen=True)
class CostReport:
    period: Period
    totals: RunTotals
    by_model: list[UsageRow]
    by_day: list[UsageRow]
    by_project: list[UsageRow]
    top_jobs: list[TopJob]


# Closed UTC days come summed from run_cost_rollup (010): by model per day,
# by project per month (or per day at a period's ragged ends), and each
# day's costliest jobs. The days it does not hold as current (today, and
# yesterday until 01:00 UTC, days changed since they were summed, days never summed) are summed
# from runs, one index range of runs_created_at_idx per such day. One
# statement, so the rollup, the stamps and the raw runs are read in one
# snapshot. GROUPING SETS, generate_series and LATERAL are not expressible in
# the ORM.
#
# A run counts for the project of its job's output artifact, or of its input
# artifact for a job that has produced nothing (yet).
REPORT_SQL = """
with clean_days as (
    select day from run_cost_days
     where day between %(first)s and %(last)s and rolled_up_at is not null and changed_at is null
       and %(use_rollup)s
),
-- Months whose summed days all fall in the period and are current: read
-- as one row per project (the month so far, for the month under way).
whole_months as (
    select date_trunc('month', day)::date as month
      from run_cost_days
     where day >= date_trunc('month', %(first)s::date)
       and day < date_trunc('month', %(last)s::date) + interval '1 month'
       and %(use_rollup)s
     group by 1
    having bool_and(rolled_up_at is not null and changed_at is null and day between %(first)s and %(last)s)
),
ragged_days as materialized (
    select day from clean_days where date_trunc('month', day)::date not in (select month from whole_months)
),
live_days as (
    select generate_series(%(first)s::date, %(last)s::date, interval '1 day')::date as day
    except
    select day from clean_days
),
live_runs as materialized (
    select live_days.day, runs.job_id, runs.model,
           runs.prompt_tokens, runs.completion_tokens, runs.total_tokens, runs.cost_usd
      from live_days
      join runs on runs.created_at >= live_days.day::timestamp at time zone %(tz)s
               and runs.created_at < (live_days.day + 1)::timestamp at time zone %(tz)s
),
live_jobs as materialized (
    select day, job_id, count(*) as runs, sum(prompt_tokens) as prompt_tokens,
           sum(completion_tokens) as completion_tokens, coalesce(sum(total_tokens), 0) as total_tokens,
           coalesce(sum(cost_usd), 0) as cost_usd
      from live_runs group by day, job_id
),
live_job_projects as (
    select live_jobs.*, attributed.project_id
      from live_jobs
      -- One index lookup per job (OFFSET 0 keeps it a subquery): joined, the
      -- planner guessed a third of runs and hashed all of jobs and artifacts.
      left join lateral (
            select artifacts.project_id from jobs
              left join artifacts on artifacts.id = coalesce(jobs.output_artifact_id, jobs.input_artifact_id)
             where jobs.id = live_jobs.job_id offset 0
           ) attributed on true
),
facts as materialized (
    select day, dimension, key, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd
      from run_cost_rollup join clean_days using (day)
     where dimension in ('model', 'job') and day between %(first)s and %(last)s
    union all
    -- Per day through the (day, dimension, key) index: joined, the planner
    -- guessed half the days and read the whole table.
    select ragged_days.day, 'project', rows.key, rows.runs, rows.prompt_tokens, rows.completion_tokens,
           rows.total_tokens, rows.cost_usd
      from ragged_days
      cross join lateral (
            select key, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd from run_cost_rollup
             where run_cost_rollup.day = ragged_days.day and dimension = 'project' offset 0
           ) rows
    union all
    select day, 'project', key, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd
      from run_cost_rollup
     where dimension = 'project_month' and day in (select month from whole_months)
    union all
    select day, 'model', model, count(*), sum(prompt_tokens), sum(completion_tokens),
           coalesce(sum(total_tokens), 0), coalesce(sum(cost_usd), 0)
      from live_runs group by day, model
    union all
    select day, 'project', coalesce(project_id::text, ''), sum(runs), sum(prompt_tokens), sum(completion_tokens),
           sum(total_tokens), sum(cost_usd)
      from live_job_projects group by day, project_id
    union all
    select day, 'job', job_id::text, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd
      from live_jobs
)
select case when grouping(key) = 0 then 'model' when grouping(day) = 0 then 'day' else 'total' end,
       key, day, sum(runs), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cost_usd)
  from facts where dimension = 'model'
 group by grouping sets ((key), (day), ())
union all
select 'project', key, null, sum(runs), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), sum(cost_usd)
  from facts where dimension = 'project'
 group by key
union all
(select 'job', key, day, runs, prompt_tokens, completion_tokens, total_tokens, cost_usd
   from facts where dimension = 'job'
  order by cost_usd desc, key, day
  limit %(top_jobs)s)
"""

# The rollup keeps each day's 20 costliest jobs (010_ops_rollups.sql).
TOP_JOBS = 20


def refresh_rollup() -> int:
    """Sum the closed days that are missing or changed into run_cost_rollup; how many days were summed."""
    with connection.cursor() as cursor:
        cursor.execute("select refresh_run_cost_rollup()")
        return cursor.fetchone()[0]


def _totals(runs, prompt, completion, total, cost) -> RunTotals:
    # An empty period's grand total is one row of NULL sums.
    return RunTotals(
        runs=int(runs or 0),
        prompt_tokens=int(prompt or 0),
        completion_tokens=int(completion or 0),
        total_tokens=int(total or 0),
        cost_usd=Decimal(cost or 0),
    )


def _fetch_rows(period: Period, top_jobs: int) -> dict[str, list[tuple[object, RunTotals]]]:
    tz = timezone.get_current_timezone_name()
    params = {
        "tz": tz,
        "first": period.start,
        "last": period.end,
        # The rollup's days are UTC days: any other site time zone reads runs.
        "use_rollup": tz == "UTC",
        "top_jobs": min(top_jobs, TOP_JOBS),
    }
    rows: dict[str, list[tuple[object, RunTotals]]] = {
        dimension: [] for dimension in ("model", "day", "total", "project", "job")
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # The live days' runs are a few MB: keep them in memory. JIT compiling
        # took longer than the statement runs.
        cursor.execute("set local work_mem = '64MB'")
        cursor.execute("set local jit = off")
        cursor.execute(REPORT_SQL, params)
        for dimension, key, day, *sums in cursor.fetchall():
            rows[dimension].append(
                (day if dimension == "day" else (key, day) if dimension == "job" else key, _totals(*sums))
            )
    return rows


def _rejected_outputs(jobs: list[Job]) -> set[uuid.UUID]:
    """Output artifacts among these failed jobs' whose latest decision is a rejection."""
    outputs = [job.output_artifact_id for job in jobs if job.status == JobStatus.FAILED and job.output_artifact_id]
    latest = (
        Approval.objects.filter(artifact_id__in=outputs)
        .order_by("artifact_id", "-created_at")
        .distinct("artifact_id")
        .values_list("artifact_id", "status")
    )
    return {artifact_id for artifact_id, status in latest if status == ApprovalStatus.REJECTED}


def _top_jobs(keys: list[tuple[object, RunTotals]]) -> list[TopJob]:
    jobs = (
        Job.objects.select_related("output_artifact__project")
        .defer(*UNSHOWN_JOB_COLUMNS)
        .in_bulk([job_id for (job_id, _), _ in keys])
    )
    rejected = _rejected_outputs(list(jobs.values()))
    shown = []
    for (job_id, day), usage in keys:
        job = jobs.get(uuid.UUID(job_id))
        if job is not None:
            label = "Rejected" if job.output_artifact_id in rejected else job.get_status_display()
            shown.append(TopJob(job=job, day=day, usage=usage, status_label=label))
    return shown


def cost_report(*, period: Period, top_jobs: int = TOP_JOBS) -> CostReport:
    """Totals, and tokens and cost by model, day and project, and the most expensive jobs, over a period."""
    refresh_rollup()
    rows = _fetch_rows(period, top_jobs)
    totals = rows["total"][0][1] if rows["total"] else RunTotals()
    by_model = sorted(rows["model"], key=lambda row: (-row[1].cost_usd, row[0]))
    days = dict(rows["day"])
    projects = sorted(rows["project"], key=lambda row: (-row[1].cost_usd, row[0]))
    names = dict(Project.objects.filter(pk__in=[key for key, _ in projects if key]).values_list("id", "name"))
    return CostReport(
        period=period,
        totals=totals,
        by_model=[UsageRow(key=model, label=model, usage=usage) for model, usage in by_model],
        by_day=[UsageRow(key=day, label=day.isoformat(), usage=days.get(day, RunTotals())) for day in period.days],
        by_project=[
            UsageRow(
                key=uuid.UUID(key) if key else None,
                label=names.get(uuid.UUID(key), "(deleted project)") if key else "(no artifact)",
                usage=usage,
            )
            for key, usage in projects
        ],
        top_jobs=_top_jobs(rows["job"]),
    )


def distinct_run_models() -> list[str]:
    """The models that have runs, by a loose index scan over runs (model, created_at).

    SELECT DISTINCT would read every index entry (millions); this jumps from
    one model to the next, one index probe per model.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            with recursive models(model) as (
                (select model from runs order by model limit 1)
                union all
                select (select r.model from runs r where r.model > models.model order by r.model limit 1)
                  from models
                 where models.model is not null
            )
            select model from models where model is not null
            """
        )
        return [row[0] for row in cursor.fetchall()]

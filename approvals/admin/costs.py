"""What the costs dashboard reads: tokens and cost of runs in a date range, summed in SQL.

Every query is bounded by `runs.created_at` (indexed alone and as
`(model, created_at)`), so its cost follows the range, not the table.
"""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from approvals.admin.big_tables import artifact_content
from approvals.models import Job, Project

DEFAULT_DAYS = 30
MAX_DAYS = 366
# The costs tables name each job and its artifact; they never show content.
UNSHOWN_JOB_COLUMNS = ("params", *artifact_content("output_artifact"))


@dataclass(frozen=True)
class Period:
    """Whole days, both ends included, in the site's time zone."""

    start: date
    end: date

    @classmethod
    def last_days(cls, days: int = DEFAULT_DAYS, *, today: date | None = None) -> "Period":
        end = today or timezone.localdate()
        return cls(start=end - timedelta(days=days - 1), end=end)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        # The last day there is (9999-12-31) has no next day to end before.
        end = _day_start(self.end + timedelta(days=1)) if self.end < date.max else timezone.make_aware(datetime.max)
        return _day_start(self.start), end


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass(frozen=True)
class Usage:
    runs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: Decimal = Decimal(0)


@dataclass(frozen=True)
class UsageRow:
    key: object
    label: str
    usage: Usage


@dataclass(frozen=True)
class CostReport:
    period: Period
    totals: Usage
    by_model: list[UsageRow]
    by_day: list[UsageRow]
    by_project: list[UsageRow]
    top_jobs: list[tuple[Job, Usage]]


# One statement and one index range scan of runs (runs_created_at_idx): the
# period's runs, each with its project, are read once into a CTE; totals,
# models, days and projects come from GROUPING SETS over it, and the most
# expensive jobs from its per-job sums. Separate ORM aggregates would scan the
# range once per breakdown; GROUPING SETS, a materialized CTE and a join on
# COALESCE are not expressible in the ORM.
#
# A run counts for the project of its job's output artifact, or of its input
# artifact for a job that has produced nothing (yet). One join on COALESCE,
# rather than two outer joins, also keeps NULL keys out of the hash tables.
REPORT_SQL = """
with period_runs as materialized (
    select runs.job_id, runs.model, (runs.created_at at time zone %(tz)s)::date as day, artifacts.project_id,
           runs.prompt_tokens, runs.completion_tokens, runs.total_tokens, runs.cost_usd
      from runs
      join jobs on jobs.id = runs.job_id
      left join artifacts on artifacts.id = coalesce(jobs.output_artifact_id, jobs.input_artifact_id)
     where runs.created_at >= %(start)s and runs.created_at < %(end)s
)
select case when grouping(model) = 0 then 'model'
            when grouping(day) = 0 then 'day'
            when grouping(project_id) = 0 then 'project'
            else 'total' end,
       coalesce(model, day::text, project_id::text),
       count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0),
       coalesce(sum(total_tokens), 0), coalesce(sum(cost_usd), 0)
  from period_runs
 group by grouping sets ((model), (day), (project_id), ())
union all
(select 'job', job_id::text,
        count(*), sum(prompt_tokens), sum(completion_tokens), sum(total_tokens), coalesce(sum(cost_usd), 0)
   from period_runs
  group by job_id
  order by 7 desc, 2
  limit %(top_jobs)s)
"""


def cost_report(*, period: Period, top_jobs: int = 20) -> CostReport:
    """Totals, and tokens and cost by model, day and project, and the most expensive jobs, over a period."""
    start, end = period.bounds()
    params = {"tz": timezone.get_current_timezone_name(), "start": start, "end": end, "top_jobs": top_jobs}
    with transaction.atomic(), connection.cursor() as cursor:
        # A month's per-job sums and hash joins are tens of MB: keep them in memory.
        cursor.execute("set local work_mem = '64MB'")
        cursor.execute(REPORT_SQL, params)
        rows: dict[str, list[tuple[str | None, Usage]]] = {
            dimension: [] for dimension in ("model", "day", "total", "project", "job")
        }
        for dimension, key, runs, prompt, completion, total, cost in cursor.fetchall():
            rows[dimension].append((key, Usage(int(runs), int(prompt), int(completion), int(total), Decimal(cost))))

    totals = rows["total"][0][1] if rows["total"] else Usage()
    by_model = sorted(rows["model"], key=lambda row: (-row[1].cost_usd, row[0]))
    days = {date.fromisoformat(key): usage for key, usage in rows["day"]}
    projects = sorted(rows["project"], key=lambda row: (-row[1].cost_usd, row[0] or ""))
    names = dict(Project.objects.filter(pk__in=[key for key, _ in projects if key]).values_list("id", "name"))
    jobs = (
        Job.objects.select_related("output_artifact__project")
        .defer(*UNSHOWN_JOB_COLUMNS)
        .in_bulk([key for key, _ in rows["job"]])
    )
    return CostReport(
        period=period,
        totals=totals,
        by_model=[UsageRow(key=model, label=model, usage=usage) for model, usage in by_model],
        by_day=[UsageRow(key=day, label=day.isoformat(), usage=days.get(day, Usage())) for day in period.days],
        by_project=[
            UsageRow(
                key=uuid.UUID(key) if key else None,
                label=names.get(uuid.UUID(key), "(deleted project)") if key else "(no artifact)",
                usage=usage,
            )
            for key, usage in projects
        ],
        top_jobs=[(jobs[uuid.UUID(key)], usage) for key, usage in rows["job"] if uuid.UUID(key) in jobs],
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

"""What the review analytics pages read, from review_items (010_ops_rollups.sql): one narrow table
(less the decisions undone, review_takebacks in 016).

Raw SQL: percentiles (percentile_cont) over grouped rows, FILTER aggregates
and unnesting each item's models have no ORM spelling.
"""

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from approvals.models import ApprovalReason, Project
from approvals.reporting.periods import Period

# The decisions a period's figures count: an undone one is no decision (approve, undo and approve
# again would count twice), a reopened one stands (it was made; a lead asked for another look).
DECIDED_IN_PERIOD = """status <> 'pending' and decided_at >= %(start)s and decided_at < %(end)s
           and approval_id not in (select approval_id from review_takebacks where kind = 'undo')"""

# Rows shown per table; the rest are summed into the totals.
SHOWN = 25


@dataclass(frozen=True)
class Wait:
    """Count and time to decision (or age) percentiles of a group of items."""

    count: int
    p50: timedelta | None
    p95: timedelta | None


@dataclass(frozen=True)
class ReviewerDay:
    day: date
    decisions: dict[str, int]  # reviewer -> decisions that day

    @property
    def total(self) -> int:
        return sum(self.decisions.values())


@dataclass(frozen=True)
class ReviewerActivity:
    reviewers: list[tuple[str, int, int]]  # (reviewer, approved, rejected), most decisions first
    days: list[ReviewerDay]  # newest first, days with decisions only


@dataclass(frozen=True)
class ProjectQueue:
    project_id: uuid.UUID
    name: str
    count: int
    oldest: datetime
    p50: timedelta | None  # None when no item of the group has a finite created_at
    p95: timedelta | None
    target_hours: int | None
    overdue: int


@dataclass(frozen=True)
class Outcome:
    """The decisions of one group by kind (an edit's replaced draft is no decision of its own), and their cost."""

    key: str
    approved: int  # plain approvals (and approvals recorded before outcomes were)
    approved_with_edits: int
    changes_requested: int
    rejected: int  # plain rejections (and rejections recorded before outcomes were)
    approved_cost: Decimal
    rejected_cost: Decimal
    reasons: dict[str, int] = field(default_factory=dict)  # reason code -> decisions giving it, codes given only

    @property
    def decided(self) -> int:
        return self.approved + self.approved_with_edits + self.changes_requested + self.rejected

    @property
    def approval_rate(self) -> Decimal:
        approved = self.approved + self.approved_with_edits
        return (Decimal(approved) / self.decided * 100).quantize(Decimal("0.1")) if self.decided else Decimal(0)

    @property
    def cost_per_approved(self) -> Decimal | None:
        approved = self.approved + self.approved_with_edits
        return self.approved_cost / approved if approved else None

    @property
    def reason_counts(self) -> list[tuple[str, int]]:
        """(label, decisions) of the codes given, most given first."""
        labels = dict(ApprovalReason.choices)
        return sorted(((labels[code], n) for code, n in self.reasons.items()), key=lambda pair: (-pair[1], pair[0]))


@dataclass(frozen=True)
class Outcomes:
    total: Outcome
    by: dict[str, list[Outcome]] = field(default_factory=dict)  # dimension -> rows, most decided first


def _seconds(value) -> timedelta | None:
    return timedelta(seconds=float(value)) if value is not None else None


def _rows(sql: str, params: dict) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cursor:
        # A month of decisions sorted for percentiles is a few MB: in memory. JIT
        # compiling took longer than the statements run.
        cursor.execute("set local work_mem = '64MB'")
        cursor.execute("set local jit = off")
        cursor.execute(sql, params)
        return cursor.fetchall()


def _period_params(period: Period) -> dict:
    start, end = period.bounds()
    return {"start": start, "end": end, "tz": timezone.get_current_timezone_name()}


def project_names(ids) -> dict[uuid.UUID, str]:
    return dict(Project.objects.filter(pk__in=list(ids)).values_list("id", "name"))


def reviewer_activity(*, period: Period) -> ReviewerActivity:
    """Decisions per reviewer per day (days of the site's time zone); an approved edit is one approval."""
    rows = _rows(
        f"""
        select coalesce(decided_by, ''), (decided_at at time zone %(tz)s)::date,
               count(*) filter (where status = 'approved'), count(*) filter (where status = 'rejected')
          from review_items
         where {DECIDED_IN_PERIOD}
           and outcome is distinct from 'replaced_by_edit'
         group by 1, 2
        """,  # noqa: S608 (only the fixed DECIDED_IN_PERIOD is put in)
        _period_params(period),
    )
    totals: dict[str, list[int]] = {}
    days: dict[date, dict[str, int]] = {}
    for reviewer, day, approved, rejected in rows:
        counts = totals.setdefault(reviewer, [0, 0])
        counts[0] += approved
        counts[1] += rejected
        days.setdefault(day, {})[reviewer] = approved + rejected
    reviewers = sorted(((name, a, r) for name, (a, r) in totals.items()), key=lambda row: (-row[1] - row[2], row[0]))
    return ReviewerActivity(
        reviewers=reviewers,
        days=[ReviewerDay(day=day, decisions=days[day]) for day in sorted(days, reverse=True)],
    )


# An approved edit is timed by the draft it replaced: the draft's row holds when
# the item arrived; the edit's approval was written at the decision itself.
# An item the pipeline dated -infinity or infinity is counted but not timed:
# subtracting an infinite timestamp is an error in PostgreSQL, and its wait has
# no length (a BC or far-future date is timed: it is what the row says).
_TIME_TO_DECISION_SQL = f"""
select {{group}}, count(*),
       percentile_cont(0.5) within group (order by extract(epoch from decided_at - created_at))
         filter (where isfinite(created_at)),
       percentile_cont(0.95) within group (order by extract(epoch from decided_at - created_at))
         filter (where isfinite(created_at))
  from review_items
 where {DECIDED_IN_PERIOD}
   and outcome is distinct from 'approved_with_edits'
 group by 1
"""  # noqa: S608 (only the fixed DECIDED_IN_PERIOD is put in; group is one of the fixed column names)


def time_to_decision_by_week(*, period: Period) -> list[tuple[date, Wait]]:
    """p50 and p95 of the time from an item's arrival to its decision, per ISO week (Monday first), oldest first."""
    group = "date_trunc('week', decided_at at time zone %(tz)s)::date"
    rows = _rows(_TIME_TO_DECISION_SQL.format(group=group), _period_params(period))
    return sorted((week, Wait(count, _seconds(p50), _seconds(p95))) for week, count, p50, p95 in rows)


def time_to_decision_by_project(*, period: Period) -> list[tuple[uuid.UUID, str, Wait]]:
    """The same per project, slowest (by p95) first."""
    rows = _rows(_TIME_TO_DECISION_SQL.format(group="project_id"), _period_params(period))
    names = project_names(row[0] for row in rows)
    waits = [
        (pid, names.get(pid, "(deleted project)"), Wait(n, _seconds(p50), _seconds(p95))) for pid, n, p50, p95 in rows
    ]
    return sorted(waits, key=lambda row: (-(row[2].p95 or timedelta(0)).total_seconds(), row[1]))


def queue_by_project() -> list[ProjectQueue]:
    """The pending queue now, per project: count, oldest, age percentiles, review target and how many are over it.

    Items dated -infinity or infinity are counted, not aged (as in _TIME_TO_DECISION_SQL).
    """
    rows = _rows(
        """
        select i.project_id, count(*), min(i.created_at),
               percentile_cont(0.5) within group (order by extract(epoch from now() - i.created_at))
                 filter (where isfinite(i.created_at)),
               percentile_cont(0.95) within group (order by extract(epoch from now() - i.created_at))
                 filter (where isfinite(i.created_at)),
               t.target_hours,
               count(*) filter (where i.created_at < now() - make_interval(hours => t.target_hours))
          from review_items i left join review_targets t on t.project_id = i.project_id
         where i.status = 'pending'
         group by i.project_id, t.target_hours
        """,
        {},
    )
    names = project_names(row[0] for row in rows)
    queues = [
        ProjectQueue(
            project_id=pid,
            name=names.get(pid, "(deleted project)"),
            count=count,
            oldest=oldest,
            p50=_seconds(p50),
            p95=_seconds(p95),
            target_hours=target,
            overdue=overdue,
        )
        for pid, count, oldest, p50, p95, target, overdue in rows
    ]
    return sorted(queues, key=lambda q: (-q.overdue, -q.count, q.name))


# Each decided item reduced to small integers before the grouping sets count
# them (about a fifth faster than comparing text and arrays in every aggregate):
# decision 0 approved, 1 approved with edits, 2 changes requested, 3 rejected
# (rows from before 009 have no outcome: their status says which); one bit per
# reason code given, in ApprovalReason's order. Only the model's fixed codes
# are put in the text.
_REASON_BITS = " | ".join(
    f"(('{code}' = any(reasons))::int << {bit})" for bit, code in enumerate(ApprovalReason.values)
)
_COUNTS = [f"decision = {decision}" for decision in range(4)] + [
    f"reason_bits & {1 << bit} <> 0" for bit in range(len(ApprovalReason.values))
]
_SUMS = ",\n       ".join(
    [f"count(*) filter (where {condition}) as n{i}" for i, condition in enumerate(_COUNTS)]
    + [
        "coalesce(sum(cost_usd) filter (where decision < 2), 0) as approved_cost",
        "coalesce(sum(cost_usd) filter (where decision >= 2), 0) as rejected_cost",
    ]
)
_COLUMNS = ", ".join([f"n{i}" for i in range(len(_COUNTS))] + ["approved_cost", "rejected_cost"])
_SUMS_OF_SUMS = ", ".join(
    [f"sum(n{i})::bigint" for i in range(len(_COUNTS))] + ["sum(approved_cost)", "sum(rejected_cost)"]
)
# A draft replaced by a reviewer's edit is left out: the edit's approval is the
# decision, and carries the draft's cost (review_item_artifacts in 010). Models:
# the items are summed per set of models in the same pass, and only those few
# sums are spread over each set's models (not every item).
_OUTCOMES_SQL = f"""
with decided as (
    select project_id, job_kind, prompt, models, cost_usd,
           case when outcome = 'approved_with_edits' then 1 when status = 'approved' then 0
                when outcome = 'changes_requested' then 2 else 3 end as decision,
           case when reasons = '{{}}' then 0 else {_REASON_BITS} end as reason_bits
      from review_items
     where {DECIDED_IN_PERIOD}
       and outcome is distinct from 'replaced_by_edit'
), grouped as materialized (
    select case when grouping(project_id) = 0 then 'project' when grouping(job_kind) = 0 then 'kind'
                when grouping(prompt) = 0 then 'prompt' when grouping(models) = 0 then 'models' else 'total' end
             as dimension,
           coalesce(project_id::text, job_kind, prompt) as key, models, {_SUMS}
      from decided
     group by grouping sets ((project_id), (job_kind), (prompt), (models), ())
)
select dimension, key, {_COLUMNS} from grouped where dimension <> 'models'
union all
select 'model', model, {_SUMS_OF_SUMS}
  from grouped cross join lateral unnest(case when models = '{{}}' then array[null::text] else models end) model
 where dimension = 'models'
 group by model
"""  # noqa: S608 (only the fixed texts above are put in)
NO_VALUE = {"project": "(no project)", "kind": "(no job)", "prompt": "(no prompt)", "model": "(no runs)"}


def _outcome(dimension: str, row: tuple) -> Outcome:
    key, approved, edited, changes, rejected, *reason_counts, approved_cost, rejected_cost = row
    return Outcome(
        key=key or NO_VALUE.get(dimension, ""),
        approved=approved,
        approved_with_edits=edited,
        changes_requested=changes,
        rejected=rejected,
        approved_cost=approved_cost,
        rejected_cost=rejected_cost,
        reasons={code: n for code, n in zip(ApprovalReason.values, reason_counts, strict=True) if n},
    )


def outcomes(*, period: Period) -> Outcomes:
    """Decisions by kind, their reason codes and what their drafts cost, by model, prompt, project and job kind.

    An item made with several models counts once for each of them.
    """
    by: dict[str, list[Outcome]] = {dimension: [] for dimension in NO_VALUE}
    total = Outcome("total", 0, 0, 0, 0, Decimal(0), Decimal(0))
    for dimension, *row in _rows(_OUTCOMES_SQL, _period_params(period)):
        outcome = _outcome(dimension, row)
        if dimension == "total":
            total = outcome
        else:
            by[dimension].append(outcome)
    names = project_names(uuid.UUID(o.key) for o in by["project"] if o.key != NO_VALUE["project"])
    by["project"] = [
        replace(o, key=names.get(uuid.UUID(o.key), "(deleted project)")) if o.key != NO_VALUE["project"] else o
        for o in by["project"]
    ]
    return Outcomes(total=total, by={k: sorted(v, key=lambda o: (-o.decided, o.key)) for k, v in by.items()})

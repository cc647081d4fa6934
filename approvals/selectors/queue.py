"""The pending queue in SQL: what matches the filters, one keyset page, the next item, a position in it.

Raw SQL, because these statements run on every reviewer page and decision:
Django compiling the equivalent QuerySet (a media-family CASE, three
subqueries, a capped count) took longer than PostgreSQL took to run it.
Everything is parameterised; the only text put together here is fixed SQL.

Every statement walks approvals_pending_queue_idx, the partial index on
(created_at, id) where status = 'pending', in queue order, and compares
positions as row values, which that index serves as a range.
"""

import uuid
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from approvals.files.families import family_sql
from approvals.selectors.filters import QueueFilters
from approvals.selectors.keyset import MAX_PAGE_SIZE, PAGE_SIZE, Cursor
from approvals.selectors.live import MAX_LIVE_ROWS

# Counting stops here: "1,000+" tells a reviewer as much as the exact figure
# would (the ops console estimates whole backlogs), and a count walking ten
# times as many index entries cost a third of the queue page's database time.
COUNT_CAP = 1_000


# The one classifier of approvals.files.families, as SQL over the artifact `a`.
FAMILY_SQL = family_sql("a")


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict]
    next_cursor: Cursor | None
    # Matches for the filters, up to COUNT_CAP + 1; None on pages after the first.
    match_count: int | None


@dataclass(frozen=True)
class QueuePosition:
    """Where one approval stands among the pending ones matching the filters."""

    next_id: uuid.UUID | None
    previous_id: uuid.UUID | None
    pending_count: int


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_PENDING_WITH_ARTIFACT = "approvals p join artifacts a on a.id = p.artifact_id"

# Pending approval `p` of artifact `a` has waited longer than its project's review target.
OVERDUE_SQL = (
    "exists (select 1 from review_targets rt where rt.project_id = a.project_id"
    " and p.created_at < now() - make_interval(hours => rt.target_hours))"
)
# The same as a filter, led by a range of the pending index: nothing younger
# than the shortest target can be overdue (no target at all: nothing is).
OVERDUE_FILTER_SQL = (
    f"p.created_at < now() - make_interval(hours => (select min(target_hours) from review_targets)) and {OVERDUE_SQL}"  # noqa: S608 (fixed SQL)
)


@dataclass(frozen=True)
class _Matching:
    """FROM and WHERE for pending approvals `p` matching the filters, with their parameters."""

    from_sql: str
    where_sql: str
    params: list

    @classmethod
    def of(cls, filters: QueueFilters) -> "_Matching":
        conditions, params = ["p.status = 'pending'"], []
        if filters.project_id:
            conditions.append("a.project_id = %s")
            params.append(filters.project_id)
        if filters.kind:
            conditions.append("a.kind = %s")
            params.append(filters.kind)
        if filters.media:
            conditions.append(f"({FAMILY_SQL}) = %s")
            params.append(filters.media)
        if filters.waited:
            conditions.append("p.created_at <= %s")
            params.append(timezone.now() - filters.waited)
        if filters.search:
            conditions.append("a.name ilike %s")
            params.append(_like_pattern(filters.search))
        if filters.overdue:
            conditions.append(f"({OVERDUE_FILTER_SQL})")
        # Unfiltered, the queue (and its count) need only the partial index.
        needs_artifact = any((filters.project_id, filters.kind, filters.media, filters.search, filters.overdue))
        from_sql = _PENDING_WITH_ARTIFACT if needs_artifact else "approvals p"
        return cls(from_sql, " and ".join(conditions), params)

    def unclaimed_by_others(self, viewer: str | None) -> "_Matching":
        """The same, less the items someone other than `viewer` is reviewing now (an unexpired claim)."""
        if viewer is None:
            return self
        claimed = (
            "not exists (select 1 from review_claims c"
            " where c.approval_id = p.id and c.expires_at > now() and c.claimant <> %s)"
        )
        return _Matching(self.from_sql, f"{self.where_sql} and {claimed}", [*self.params, viewer])

    def capped_count(self) -> tuple[str, list]:
        # Ordered like the index, so that it is the index that is walked, and
        # at most COUNT_CAP + 1 entries of it.
        sql = (
            f"(select count(*) from (select 1 from {self.from_sql} where {self.where_sql}"  # noqa: S608 fixed text; values are %s
            f" order by p.created_at, p.id limit {COUNT_CAP + 1}) capped)"
        )
        return sql, self.params

    def first_id(self, position: str, order: str = "p.created_at, p.id") -> tuple[str, list]:
        sql = f"(select p.id from {self.from_sql} where {self.where_sql} and {position} order by {order} limit 1)"  # noqa: S608 fixed text; values are %s
        return sql, self.params


# The limit is written into the statement (an int of ours, never input): with
# it a parameter, PostgreSQL's generic plan for the prepared statement could
# not know that only a page is wanted, planned for every pending row (113 ms
# at 1M), so each run was planned afresh (1.3 ms). A literal limit gives one
# prepared statement per page size whose generic plan walks the index.
_PAGE_SQL = """
select p.id, p.created_at, p.artifact_id, c.claimant as reviewing,
       a.name, a.kind, a.mime_type, a.size_bytes, a.version, a.project_id,
       pr.name as project_name, earlier.version as previous_version_number,
       {family} as family, {overdue} as overdue,
       work.job_kind, work.tokens, work.cost_usd{match_count}
  from {from_sql}
  join projects pr on pr.id = a.project_id
  left join artifacts earlier on earlier.id = a.previous_version_id
  -- Who else is reviewing it now: shown on the row as "Reviewing: <username>".
  left join review_claims c on c.approval_id = p.id and c.expires_at > now() and c.claimant <> %s
  -- Every job that made the artifact (retries too): the newest one's kind,
  -- and tokens and cost summed over all their runs.
  left join lateral (
        select (array_agg(j.kind order by j.created_at desc))[1] as job_kind,
               sum(r.total_tokens)::bigint as tokens, sum(r.cost_usd) as cost_usd
          from jobs j left join runs r on r.job_id = j.id
         where j.output_artifact_id = p.artifact_id
       ) work on true
 where {where_sql}
 order by p.created_at, p.id
 limit {limit}
"""


def pending_queue(
    *, filters: QueueFilters, after: Cursor | None = None, limit: int = PAGE_SIZE, viewer: str = ""
) -> QueuePage:
    """Pending approvals oldest first, one keyset page, with what a queue row shows.

    `reviewing` on a row names whoever other than `viewer` has it open now.

    One query per page: the match count of a first page rides along as an
    uncorrelated scalar subquery, which PostgreSQL runs once.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    matching = _Matching.of(filters)
    where_sql, params = matching.where_sql, list(matching.params)
    if after is not None:
        where_sql += " and (p.created_at, p.id) > (%s, %s)"
        params += [after.at, after.id]
    count_sql, count_params = "", []
    if after is None:
        count_sql, count_params = matching.capped_count()
        count_sql = f",\n       {count_sql} as match_count"
    sql = _PAGE_SQL.format(
        family=FAMILY_SQL,
        overdue=OVERDUE_SQL,
        match_count=count_sql,
        from_sql=_PENDING_WITH_ARTIFACT,
        where_sql=where_sql,
        limit=int(limit) + 1,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*count_params, viewer, *params])
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    page, more = rows[:limit], len(rows) > limit
    next_cursor = Cursor(at=page[-1]["created_at"], id=page[-1]["id"]) if more else None
    match_count = None
    if after is None:
        # No row means nothing matched: the count and the rows share one snapshot.
        match_count = page[0]["match_count"] if page else 0
        for row in page:
            del row["match_count"]
    return QueuePage(rows=page, next_cursor=next_cursor, match_count=match_count)


def next_pending_id(
    *, after_approval_id: uuid.UUID, filters: QueueFilters, viewer: str | None = None
) -> uuid.UUID | None:
    """The item to review after this one: the next pending in queue order, else the oldest pending left.

    With a viewer, items someone else is reviewing now are passed over.
    """
    matching = _Matching.of(filters).unclaimed_by_others(viewer)
    following, following_params = matching.first_id(
        "(p.created_at, p.id) > (select created_at, id from approvals where id = %s)"
    )
    oldest, oldest_params = matching.first_id("p.id <> %s")
    with connection.cursor() as cursor:
        cursor.execute(
            f"select coalesce({following}, {oldest})",
            [*following_params, after_approval_id, *oldest_params, after_approval_id],
        )
        return cursor.fetchone()[0]


def queue_position(*, approval_id: uuid.UUID, at, filters: QueueFilters, viewer: str | None = None) -> QueuePosition:
    """The pending items just after and just before (at, approval_id) in queue order, and the capped count.

    With a viewer, next and previous pass over items someone else is reviewing now (the count does not).
    """
    matching = _Matching.of(filters)
    steering = matching.unclaimed_by_others(viewer)
    following, following_params = steering.first_id("(p.created_at, p.id) > (%s, %s)")
    preceding, preceding_params = steering.first_id(
        "(p.created_at, p.id) < (%s, %s)", order="p.created_at desc, p.id desc"
    )
    count, count_params = matching.capped_count()
    with connection.cursor() as cursor:
        cursor.execute(
            f"select {following}, {preceding}, {count}",
            [
                *following_params,
                at,
                approval_id,
                *preceding_params,
                at,
                approval_id,
                *count_params,
            ],
        )
        next_id, previous_id, pending_count = cursor.fetchone()
    return QueuePosition(next_id=next_id, previous_id=previous_id, pending_count=pending_count)


def pending_rows_of_artifacts(*, artifact_ids: list[uuid.UUID], viewer: str) -> list[dict]:
    """Queue rows (as pending_queue makes them) of these artifacts' pending approvals, for the live queue."""
    if not artifact_ids:
        return []
    sql = _PAGE_SQL.format(
        family=FAMILY_SQL,
        overdue=OVERDUE_SQL,
        match_count="",
        from_sql=_PENDING_WITH_ARTIFACT,
        where_sql="p.status = 'pending' and p.artifact_id = any(%s::uuid[])",
        limit=MAX_LIVE_ROWS,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [viewer, list(artifact_ids)])
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]

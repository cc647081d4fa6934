"""The pending queue in SQL: what matches the filters, one keyset page, the next item, a position in it.

Raw SQL, because these statements run on every reviewer page and decision:
Django compiling the equivalent QuerySet (a media-family CASE, three
subqueries, a capped count) took longer than PostgreSQL took to run it.
Everything is parameterised with named parameters (one dict per statement,
so the text can be put together in any order); the only text put together
here is fixed SQL.

Every statement walks approvals_pending_queue_idx, the partial index on
(created_at, id) where status = 'pending', in queue order, and compares
positions as row values, which that index serves as a range.

A page's rows are QueueRows: typed, with everything the row shows already
formatted (waited, times, links, figures) once per row here, so the queue
template only prints attributes. The queue page repeats its row 50 to 100
times, and Django's template engine pays for every filter, `{% url %}` and
lookup in it on every row (docs/benchmarks.md, "One engine for the reviewer
pages"); the live update prints the same row from the same partial.
"""

import html
import uuid
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cache, lru_cache

from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from approvals.files.families import family_sql
from approvals.plumbing.pg_timestamps import stored_text
from approvals.selectors.claimed import CLAIMED_BY_OTHER_SQL
from approvals.selectors.filters import QueueFilters
from approvals.selectors.keyset import MAX_PAGE_SIZE, PAGE_SIZE, Cursor
from approvals.selectors.live import MAX_LIVE_ROWS

# The module, not its names: review_tags imports this one (COUNT_CAP) for its capped_count filter.
from approvals.templatetags import review_tags

# Counting stops here: "1,000+" tells a reviewer as much as the exact figure
# would (the ops console estimates whole backlogs), and a count walking ten
# times as many index entries cost a third of the queue page's database time.
COUNT_CAP = 1_000


# The one classifier of approvals.files.families, as SQL over the artifact `a`.
FAMILY_SQL = family_sql("a")

_PLACEHOLDER = uuid.UUID(int=0)


@cache
def _uuid_url_parts(name: str) -> tuple[str, str]:
    # Once per process, not reverse() per row: the script prefix is the same for every request a deployment serves.
    prefix, _, suffix = reverse(name, args=[_PLACEHOLDER]).partition(str(_PLACEHOLDER))
    return prefix, suffix


def _uuid_url(name: str, value: uuid.UUID) -> SafeString:
    prefix, suffix = _uuid_url_parts(name)
    return SafeString(f"{prefix}{value}{suffix}")  # our URL pattern around a UUID


def _escaped(text: str) -> SafeString:
    # What Django's autoescape does to a str, without its lazy-text wrapper (50 to 100 rows, six texts each).
    return SafeString(html.escape(text))


# The texts rows repeat (project names, families, media types, job kinds,
# usernames): escaped once per worker, not once per row. A name is the
# row's own and is escaped each time.
_escaped_repeated = lru_cache(maxsize=4096)(_escaped)


# Not frozen: a frozen dataclass sets each of its 32 fields through
# object.__setattr__, 9 µs of the 21 a row took to build (timeit), about
# 0.2 ms of a 50-row page. Nothing changes a row once it is made.
@dataclass(slots=True)
class QueueRow:
    """One pending approval as its queue row shows it: the values, and their display text, formatted once."""

    id: uuid.UUID
    artifact_id: uuid.UUID
    created_at: datetime
    reviewing: str | None  # who other than the viewer has it open now
    name: str
    kind: str
    mime_type: str | None
    version: int
    project_id: uuid.UUID
    project_name: str
    previous_version_number: int | None
    family: str
    overdue: bool
    job_kind: str | None
    tokens: int | None
    cost_usd: Decimal | None
    # Display text, formatted as Django's filters format it for this app (en-us,
    # the active time zone), as SafeString so the template prints it as it is:
    # our own figures, ids, dates and URLs, and the text the pipeline and
    # reviewers wrote escaped here (html.escape, as Django's escape filter),
    # once, in the fields ending in _html.
    name_html: SafeString
    project_name_html: SafeString
    family_html: SafeString
    mime_type_html: SafeString  # "" without a declared type
    reviewing_html: SafeString  # "" when nobody else has it open
    artifact_key: SafeString  # the artifact id as the row's element ids and live input carry it
    detail_url: SafeString
    thumbnail_url: SafeString | None  # images other than SVG (which is never rendered inline)
    waited: SafeString  # "3 h 20 min"
    waited_since_iso: SafeString  # date:"c"
    waited_since_title: SafeString  # date:"Y-m-d H:i T"
    version_label: SafeString  # "v3"
    revises_label: SafeString  # "revises v2", or "" for a first version
    job_label: SafeString
    tokens_label: SafeString  # intcomma, or "–"
    cost_label: SafeString

    # Django's template engine looks up row.name as row["name"] first and only
    # then as an attribute: answering the first try spares an exception per
    # printed attribute, about a millisecond of a 50-row page. (A missing name
    # raises AttributeError, which the engine takes as "try the next way".)
    __getitem__ = object.__getattribute__

    @classmethod
    def from_columns(cls, columns: dict, *, zone: tzinfo, now: datetime) -> "QueueRow":
        """The row of one result of _PAGE_SQL, its times shown in `zone` and its wait until `now` (once a page)."""
        local = columns["created_at"].astimezone(zone)
        iso = local.isoformat()
        thumbnail = columns["kind"] == "file" and columns["family"] == "image"
        thumbnail = thumbnail and columns["mime_type"] != "image/svg+xml"
        previous, tokens = columns["previous_version_number"], columns["tokens"]
        # SafeString() rather than mark_safe(): the same, without the lazy-text check, 50 to 100 times a page.
        artifact_key = SafeString(columns["artifact_id"])
        return cls(
            **columns,
            artifact_key=artifact_key,
            detail_url=_uuid_url("approval-detail", columns["id"]),
            thumbnail_url=_uuid_url("artifact-thumbnail", artifact_key) if thumbnail else None,
            waited=SafeString(review_tags.waited_until(columns["created_at"], now)),
            waited_since_iso=SafeString(iso),
            # A time Python cannot hold shows as PostgreSQL stores it (its isoformat is that text too).
            waited_since_title=SafeString(stored_text(local) or f"{iso[:10]} {iso[11:16]} {local.tzname()}"),
            version_label=SafeString(f"v{columns['version']}"),
            revises_label=SafeString(f"revises v{previous}" if previous else ""),
            job_label=_escaped_repeated(columns["job_kind"] or "–"),
            name_html=_escaped(columns["name"]),
            project_name_html=_escaped_repeated(columns["project_name"]),
            family_html=_escaped_repeated(columns["family"]),
            mime_type_html=_escaped_repeated(columns["mime_type"] or ""),
            reviewing_html=_escaped_repeated(columns["reviewing"] or ""),
            tokens_label=SafeString("–" if tokens is None else f"{tokens:,}"),
            cost_label=SafeString(review_tags.usd(columns["cost_usd"])),
        )


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
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
    """FROM and WHERE for pending approvals `p` matching the filters, with their named parameters."""

    from_sql: str
    where_sql: str
    params: dict

    @classmethod
    def of(cls, filters: QueueFilters) -> "_Matching":
        conditions, params = ["p.status = 'pending'"], {}
        if filters.project_id:
            conditions.append("a.project_id = %(project_id)s")
            params["project_id"] = filters.project_id
        if filters.kind:
            conditions.append("a.kind = %(kind)s")
            params["kind"] = filters.kind
        if filters.media:
            conditions.append(f"({FAMILY_SQL}) = %(media)s")
            params["media"] = filters.media
        if filters.waited:
            conditions.append("p.created_at <= %(waited_since)s")
            params["waited_since"] = timezone.now() - filters.waited
        if filters.search:
            conditions.append("a.name ilike %(name_pattern)s")
            params["name_pattern"] = _like_pattern(filters.search)
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
        claimed = f"not exists (select 1 from review_claims c where {CLAIMED_BY_OTHER_SQL})"  # noqa: S608 (fixed SQL)
        return _Matching(self.from_sql, f"{self.where_sql} and {claimed}", {**self.params, "viewer": viewer})

    def capped_count(self) -> str:
        # Ordered like the index, so that it is the index that is walked, and
        # at most COUNT_CAP + 1 entries of it.
        return (
            f"(select count(*) from (select 1 from {self.from_sql} where {self.where_sql}"  # noqa: S608 fixed text; values are named parameters
            f" order by p.created_at, p.id limit {COUNT_CAP + 1}) capped)"
        )

    def first_id(self, position: str, order: str = "p.created_at, p.id") -> str:
        return f"(select p.id from {self.from_sql} where {self.where_sql} and {position} order by {order} limit 1)"  # noqa: S608 fixed text; values are named parameters


# The limit is written into the statement (an int of ours, never input): with
# it a parameter, PostgreSQL's generic plan for the prepared statement could
# not know that only a page is wanted, planned for every pending row (113 ms
# at 1M), so each run was planned afresh (1.3 ms). A literal limit gives one
# prepared statement per page size whose generic plan walks the index.
_PAGE_SQL = """
select p.id, p.created_at, p.artifact_id, c.claimant as reviewing,
       a.name, a.kind, a.mime_type, a.version, a.project_id,
       pr.name as project_name, earlier.version as previous_version_number,
       {family} as family, {overdue} as overdue,
       work.job_kind, work.tokens, work.cost_usd{match_count}
  from {from_sql}
  join projects pr on pr.id = a.project_id
  left join artifacts earlier on earlier.id = a.previous_version_id
  -- Who else is reviewing it now: shown on the row as "Reviewing: <username>".
  left join review_claims c on {claimed_by_other}
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


def _page_sql(*, where_sql: str, limit: int, match_count: str = "") -> str:
    return _PAGE_SQL.format(
        family=FAMILY_SQL,
        overdue=OVERDUE_SQL,
        match_count=f",\n       {match_count} as match_count" if match_count else "",
        from_sql=_PENDING_WITH_ARTIFACT,
        claimed_by_other=CLAIMED_BY_OTHER_SQL,
        where_sql=where_sql,
        limit=int(limit),
    )


def _fetch_columns(sql: str, params: dict) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]


def pending_queue(
    *, filters: QueueFilters, after: Cursor | None = None, limit: int = PAGE_SIZE, viewer: str = ""
) -> QueuePage:
    """Pending approvals oldest first, one keyset page of QueueRows.

    `reviewing` on a row names whoever other than `viewer` has it open now.

    One query per page: the match count of a first page rides along as an
    uncorrelated scalar subquery, which PostgreSQL runs once.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    matching = _Matching.of(filters)
    where_sql, params = matching.where_sql, {**matching.params, "viewer": viewer}
    if after is not None:
        where_sql += " and (p.created_at, p.id) > (%(after_at)s, %(after_id)s)"
        params |= {"after_at": after.at, "after_id": after.id}
    count_sql = matching.capped_count() if after is None else ""
    found = _fetch_columns(_page_sql(where_sql=where_sql, limit=limit + 1, match_count=count_sql), params)
    page, more = found[:limit], len(found) > limit
    next_cursor = Cursor(at=page[-1]["created_at"], id=page[-1]["id"]) if more else None
    match_count = None
    if after is None:
        # No row means nothing matched: the count and the rows share one snapshot.
        match_count = page[0]["match_count"] if page else 0
        for columns in page:
            del columns["match_count"]
    zone, now = timezone.get_current_timezone(), timezone.now()
    rows = [QueueRow.from_columns(columns, zone=zone, now=now) for columns in page]
    return QueuePage(rows=rows, next_cursor=next_cursor, match_count=match_count)


def next_pending_id(
    *, after_approval_id: uuid.UUID, filters: QueueFilters, viewer: str | None = None
) -> uuid.UUID | None:
    """The item to review after this one: the next pending in queue order, else the oldest pending left.

    With a viewer, items someone else is reviewing now are passed over.
    """
    matching = _Matching.of(filters).unclaimed_by_others(viewer)
    following = matching.first_id("(p.created_at, p.id) > (select created_at, id from approvals where id = %(after)s)")
    oldest = matching.first_id("p.id <> %(after)s")
    with connection.cursor() as cursor:
        cursor.execute(f"select coalesce({following}, {oldest})", {**matching.params, "after": after_approval_id})
        return cursor.fetchone()[0]


def queue_position(*, approval_id: uuid.UUID, at, filters: QueueFilters, viewer: str | None = None) -> QueuePosition:
    """The pending items just after and just before (at, approval_id) in queue order, and the capped count.

    With a viewer, next and previous pass over items someone else is reviewing now (the count does not).
    """
    matching = _Matching.of(filters)
    steering = matching.unclaimed_by_others(viewer)
    following = steering.first_id("(p.created_at, p.id) > (%(at)s, %(approval_id)s)")
    preceding = steering.first_id(
        "(p.created_at, p.id) < (%(at)s, %(approval_id)s)", order="p.created_at desc, p.id desc"
    )
    # The count shares the filters' parameters (same names, same values) with next and previous.
    params = {**steering.params, "at": at, "approval_id": approval_id}
    with connection.cursor() as cursor:
        cursor.execute(f"select {following}, {preceding}, {matching.capped_count()}", params)
        next_id, previous_id, pending_count = cursor.fetchone()
    return QueuePosition(next_id=next_id, previous_id=previous_id, pending_count=pending_count)


def pending_rows_of_artifacts(*, artifact_ids: list[uuid.UUID], viewer: str) -> list[QueueRow]:
    """The QueueRows (as pending_queue makes them) of these artifacts' pending approvals, for the live queue."""
    if not artifact_ids:
        return []
    sql = _page_sql(
        where_sql="p.status = 'pending' and p.artifact_id = any(%(artifact_ids)s::uuid[])", limit=MAX_LIVE_ROWS
    )
    found = _fetch_columns(sql, {"viewer": viewer, "artifact_ids": list(artifact_ids)})
    zone, now = timezone.get_current_timezone(), timezone.now()
    return [QueueRow.from_columns(columns, zone=zone, now=now) for columns in found]

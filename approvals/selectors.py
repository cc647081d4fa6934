"""What the reviewer pages read: the pending queue, the history, one review.

Lists are keyset-paginated on an indexed (timestamp, id) pair, never OFFSET, and
every per-row figure is a join or a subquery, so a page costs the same number of
queries however many rows it shows.
"""

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Case, F, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, TextChoices, Value, When
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from approvals.diffs import LineDiff, line_diff
from approvals.models import Approval, ApprovalStatus, Artifact, ArtifactKind, Job, Project, Run
from approvals.previews import ArtifactPreview, preview_for

# Counting stops here: "10,000+" is as useful to a reviewer as the exact figure,
# and a capped count never walks a huge table.
COUNT_CAP = 10_000
# Earlier versions shown on a review page (the chain is walked in SQL, bounded).
VERSION_CHAIN_LIMIT = 20
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class MediaFamily(TextChoices):
    """What a reviewer filters by. Audio counts as "other": the pipeline makes
    posts, specs, images, video and PDFs, and a rare audio file does not earn a
    filter of its own."""

    IMAGE = "image", "Image"
    VIDEO = "video", "Video"
    TEXT = "text", "Text"
    JSON = "json", "JSON"
    PDF = "pdf", "PDF"
    OTHER = "other", "Other"


def media_family_expression(prefix: str = "") -> Case:
    """The media family of an artifact, computed in SQL so that filtering by it stays in the database.

    Text and JSON artifacts are what their kind says. Files go by mime_type, or,
    when the pipeline left it missing or generic, by the extension of their path.
    """

    def q(lookup: str, value) -> Q:
        return Q(**{f"{prefix}{lookup}": value})

    unknown_mime = (
        q("mime_type__isnull", True) | q("mime_type", "") | q("mime_type__iexact", "application/octet-stream")
    )

    def by(mime: Q, extensions: str) -> Q:
        return mime | (unknown_mime & q("storage_path__iregex", rf"\.({extensions})$"))

    return Case(
        When(q("kind", ArtifactKind.TEXT), then=Value(MediaFamily.TEXT)),
        When(q("kind", ArtifactKind.JSON), then=Value(MediaFamily.JSON)),
        When(
            by(q("mime_type__istartswith", "image/"), "png|jpe?g|gif|webp|avif|bmp|svg|tiff?|heic"),
            then=Value(MediaFamily.IMAGE),
        ),
        When(by(q("mime_type__istartswith", "video/"), "mp4|m4v|mov|webm|mkv|avi"), then=Value(MediaFamily.VIDEO)),
        When(by(q("mime_type__iexact", "application/pdf"), "pdf"), then=Value(MediaFamily.PDF)),
        When(
            by(q("mime_type__iexact", "application/json") | q("mime_type__iendswith", "+json"), "json"),
            then=Value(MediaFamily.JSON),
        ),
        When(by(q("mime_type__istartswith", "text/"), "txt|md|markdown|csv|tsv"), then=Value(MediaFamily.TEXT)),
        default=Value(MediaFamily.OTHER),
    )


@dataclass(frozen=True)
class Cursor:
    """A keyset position: the (timestamp, id) of the last row shown. Encoded as `<µs since epoch>_<uuid>`."""

    at: datetime
    id: uuid.UUID

    _EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

    def encode(self) -> str:
        micros = (self.at - self._EPOCH) // timedelta(microseconds=1)
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """Raise ValueError for anything that is not a cursor this module wrote."""
        micros, sep, raw_id = value.partition("_")
        if not sep:
            raise ValueError("not a cursor")
        try:
            at = cls._EPOCH + timedelta(microseconds=int(micros))
        except OverflowError as exc:
            raise ValueError("cursor out of range") from exc
        return cls(at=at, id=uuid.UUID(raw_id))


def _capped_count_sql(queryset: QuerySet) -> RawSQL:
    """The rows of queryset counted up to COUNT_CAP + 1, as an uncorrelated scalar
    subquery: PostgreSQL runs it once (an InitPlan) however many rows the outer
    query returns, which saves a round trip on pages showing a list and its count."""
    sql, params = queryset.order_by().values("pk")[: COUNT_CAP + 1].query.sql_with_params()
    return RawSQL(f"select count(*) from ({sql}) as capped", params)  # noqa: S611 (SQL compiled by Django)


def project_choices() -> list[tuple[uuid.UUID, str]]:
    """(id, name) of every project, for the filter menus."""
    return list(Project.objects.order_by("name", "id").values_list("id", "name"))


# --- The pending queue --------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    project_id: uuid.UUID | None = None
    kind: str | None = None
    media: str | None = None
    waited: timedelta | None = None
    search: str = ""


@dataclass(frozen=True)
class QueuePage:
    rows: list[dict]
    next_cursor: Cursor | None
    # Matches for the filters, up to COUNT_CAP + 1; None on pages after the first.
    match_count: int | None


def matching_pending(filters: QueueFilters) -> QuerySet:
    """Pending approvals matching the filters (no order, no extra columns)."""
    queryset = Approval.objects.filter(status=ApprovalStatus.PENDING)
    if filters.project_id:
        queryset = queryset.filter(artifact__project_id=filters.project_id)
    if filters.kind:
        queryset = queryset.filter(artifact__kind=filters.kind)
    if filters.media:
        queryset = queryset.alias(media_family=media_family_expression("artifact__")).filter(media_family=filters.media)
    if filters.waited:
        queryset = queryset.filter(created_at__lte=timezone.now() - filters.waited)
    if filters.search:
        queryset = queryset.filter(artifact__name__icontains=filters.search)
    return queryset


def _after(queryset: QuerySet, *, at, pk) -> QuerySet:
    # (created_at, id) > (at, pk), written so the first condition is a range on
    # the index and the second only breaks ties.
    return queryset.filter(created_at__gte=at).filter(Q(created_at__gt=at) | Q(id__gt=pk))


def _before(queryset: QuerySet, *, at, pk) -> QuerySet:
    return queryset.filter(created_at__lte=at).filter(Q(created_at__lt=at) | Q(id__lt=pk))


def _runs_of_jobs_producing(artifact_ref) -> QuerySet:
    return Run.objects.filter(job__output_artifact_id=artifact_ref).order_by().values("job__output_artifact_id")


def pending_queue(*, filters: QueueFilters, after: Cursor | None = None, limit: int = PAGE_SIZE) -> QueuePage:
    """Pending approvals oldest first, one keyset page, with what a queue row shows.

    Uses the partial index approvals_pending_queue_idx (created_at, id) where
    status = 'pending'. One query per page: the match count of a first page
    rides along as a scalar subquery.
    """
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    matching = matching_pending(filters)
    runs = _runs_of_jobs_producing(OuterRef("artifact_id"))
    rows = matching.annotate(
        media_family_value=media_family_expression("artifact__"),
        job_kind=Subquery(
            Job.objects.filter(output_artifact_id=OuterRef("artifact_id")).order_by("-created_at").values("kind")[:1]
        ),
        tokens=Subquery(runs.annotate(total=Sum("total_tokens")).values("total")),
        cost_usd=Subquery(runs.annotate(total=Sum("cost_usd")).values("total")),
    )
    if after is None:
        rows = rows.annotate(match_count=_capped_count_sql(matching))
    else:
        rows = _after(rows, at=after.at, pk=after.id)
    values = list(
        rows.order_by("created_at", "id").values(
            "id",
            "created_at",
            "artifact_id",
            "job_kind",
            "tokens",
            "cost_usd",
            *(["match_count"] if after is None else []),
            family=F("media_family_value"),
            name=F("artifact__name"),
            kind=F("artifact__kind"),
            mime_type=F("artifact__mime_type"),
            size_bytes=F("artifact__size_bytes"),
            version=F("artifact__version"),
            previous_version_number=F("artifact__previous_version__version"),
            project_id=F("artifact__project_id"),
            project_name=F("artifact__project__name"),
        )[: limit + 1]
    )
    page, more = values[:limit], len(values) > limit
    next_cursor = Cursor(at=page[-1]["created_at"], id=page[-1]["id"]) if more else None
    match_count = None
    if after is None:
        match_count = page[0].pop("match_count") if page else 0
        for row in page[1:]:
            row.pop("match_count")
    return QueuePage(rows=page, next_cursor=next_cursor, match_count=match_count)


def next_pending_id(*, after_approval_id: uuid.UUID, filters: QueueFilters) -> uuid.UUID | None:
    """The item to review after this one: the next pending in queue order, else the oldest pending left."""
    matching = matching_pending(filters).order_by("created_at", "id").values_list("id", flat=True)
    anchor = Subquery(Approval.objects.filter(id=after_approval_id).values("created_at")[:1])
    following = _after(matching, at=anchor, pk=after_approval_id).first()
    return following or matching.exclude(id=after_approval_id).first()


# --- History ------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryFilters:
    reviewer: str = ""
    decision: str | None = None
    project_id: uuid.UUID | None = None
    decided_from: date | None = None
    decided_to: date | None = None


@dataclass(frozen=True)
class HistoryPage:
    rows: list[dict]
    next_cursor: Cursor | None


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def history(*, filters: HistoryFilters, after: Cursor | None = None, limit: int = PAGE_SIZE) -> HistoryPage:
    """Decided approvals newest first, one keyset page (index approvals_decided_history_idx)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    queryset = Approval.objects.exclude(status=ApprovalStatus.PENDING)
    if filters.reviewer:
        queryset = queryset.filter(decided_by=filters.reviewer)
    if filters.decision:
        queryset = queryset.filter(status=filters.decision)
    if filters.project_id:
        queryset = queryset.filter(artifact__project_id=filters.project_id)
    # Day bounds as timestamps (not decided_at::date) so the index range applies.
    if filters.decided_from:
        queryset = queryset.filter(decided_at__gte=_start_of_day(filters.decided_from))
    if filters.decided_to:
        queryset = queryset.filter(decided_at__lt=_start_of_day(filters.decided_to + timedelta(days=1)))
    if after is not None:
        queryset = queryset.filter(decided_at__lte=after.at).filter(Q(decided_at__lt=after.at) | Q(id__lt=after.id))
    values = list(
        queryset.order_by("-decided_at", "-id").values(
            "id",
            "status",
            "notes",
            "decided_by",
            "decided_at",
            "created_at",
            "artifact_id",
            name=F("artifact__name"),
            kind=F("artifact__kind"),
            version=F("artifact__version"),
            project_id=F("artifact__project_id"),
            project_name=F("artifact__project__name"),
        )[: limit + 1]
    )
    page, more = values[:limit], len(values) > limit
    next_cursor = Cursor(at=page[-1]["decided_at"], id=page[-1]["id"]) if more else None
    return HistoryPage(rows=page, next_cursor=next_cursor)


# --- One review ---------------------------------------------------------------


@dataclass(frozen=True)
class RunTotals:
    runs: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    duration_ms: int = 0
    cost_usd: Decimal = Decimal(0)

    @classmethod
    def of(cls, runs: list[Run]) -> "RunTotals":
        return cls(
            runs=len(runs),
            prompt_tokens=sum(run.prompt_tokens for run in runs),
            completion_tokens=sum(run.completion_tokens for run in runs),
            total_tokens=sum(run.total_tokens or 0 for run in runs),
            duration_ms=sum(run.duration_ms or 0 for run in runs),
            cost_usd=sum((run.cost_usd or Decimal(0) for run in runs), Decimal(0)),
        )


@dataclass(frozen=True)
class JobSummary:
    job: Job
    runs: list[Run]
    totals: RunTotals


@dataclass(frozen=True)
class VersionEntry:
    """An earlier version, its diff against the version before it, and the decisions made on it."""

    artifact: Artifact
    diff: LineDiff | None
    decisions: list[Approval]


@dataclass(frozen=True)
class ReviewContext:
    approval: Approval
    artifact: Artifact
    preview: ArtifactPreview
    jobs: list[JobSummary]
    totals: RunTotals
    changes: LineDiff | None  # this version against the one it revises
    earlier_decisions: list[Approval]  # on this same version (it was reopened)
    versions: list[VersionEntry] = field(default_factory=list)
    versions_truncated: bool = False
    next_id: uuid.UUID | None = None
    previous_id: uuid.UUID | None = None
    pending_count: int = 0


_VERSION_CHAIN_SQL = f"""
with recursive chain (id, depth) as (
    select %s::uuid, 1
  union all
    select a.previous_version_id, chain.depth + 1
      from chain join {Artifact._meta.db_table} a on a.id = chain.id
     where a.previous_version_id is not null and chain.depth < %s
)
select a.*, chain.depth from chain join {Artifact._meta.db_table} a on a.id = chain.id order by chain.depth
"""


def _earlier_versions(artifact: Artifact) -> list[Artifact]:
    """The versions this one revises, newest first: one recursive query, bounded (and safe from cycles)."""
    if artifact.previous_version_id is None:
        return []
    # One more than shown, so the last one shown can be diffed against its predecessor.
    chain = Artifact.objects.raw(_VERSION_CHAIN_SQL, [artifact.previous_version_id, VERSION_CHAIN_LIMIT + 1])
    seen = {artifact.id}
    versions = []
    for version in chain:
        if version.id in seen:  # the pipeline wrote a cycle: stop where it closes
            break
        seen.add(version.id)
        versions.append(version)
    return versions


def review_context(*, approval_id: uuid.UUID, filters: QueueFilters | None = None) -> ReviewContext:
    """Everything the review page shows, in a fixed number of queries; Http404 if there is no such approval."""
    filters = filters or QueueFilters()
    matching = matching_pending(filters)
    here = {"at": OuterRef("created_at"), "pk": OuterRef("id")}
    approval = (
        Approval.objects.select_related("artifact", "artifact__project")
        .annotate(
            next_pending_id=Subquery(_after(matching, **here).order_by("created_at", "id").values("id")[:1]),
            previous_pending_id=Subquery(_before(matching, **here).order_by("-created_at", "-id").values("id")[:1]),
            pending_count=_capped_count_sql(matching),
        )
        .filter(id=approval_id)
        .first()
    )
    if approval is None:
        raise Http404("No such approval.")
    artifact = approval.artifact

    jobs = list(
        Job.objects.filter(output_artifact_id=artifact.id)
        .prefetch_related(Prefetch("runs", queryset=Run.objects.order_by("created_at", "id")))
        .order_by("created_at", "id")
    )
    job_summaries = []
    for job in jobs:
        runs = list(job.runs.all())
        job_summaries.append(JobSummary(job=job, runs=runs, totals=RunTotals.of(runs)))

    chain = _earlier_versions(artifact)
    shown = chain[:VERSION_CHAIN_LIMIT]
    decisions_by_artifact = defaultdict(list)
    for decision in (
        Approval.objects.filter(artifact_id__in=[artifact.id, *(version.id for version in shown)])
        .exclude(status=ApprovalStatus.PENDING)
        .exclude(id=approval.id)
        .order_by("-decided_at")
    ):
        decisions_by_artifact[decision.artifact_id].append(decision)

    versions = [
        VersionEntry(
            artifact=version,
            diff=line_diff(old=chain[index + 1], new=version) if index + 1 < len(chain) else None,
            decisions=decisions_by_artifact[version.id],
        )
        for index, version in enumerate(shown)
    ]
    return ReviewContext(
        approval=approval,
        artifact=artifact,
        preview=preview_for(artifact),
        jobs=job_summaries,
        totals=RunTotals.of([run for summary in job_summaries for run in summary.runs]),
        changes=line_diff(old=chain[0], new=artifact) if chain else None,
        earlier_decisions=decisions_by_artifact[artifact.id],
        versions=versions,
        versions_truncated=len(chain) > VERSION_CHAIN_LIMIT,
        next_id=approval.next_pending_id,
        previous_id=approval.previous_pending_id,
        pending_count=approval.pending_count,
    )

"""What keeps a changelist quick over millions of rows.

- No full COUNT(*) per page view: the paginator takes the planner's estimate
  when it is large, and counts exactly only what is cheap to count.
- A pasted UUID is looked up through the primary key and foreign key indexes
  (Django's own `=id` search casts the column to text and scans the table).
- No facet counts, and a date drill-down that probes the index once per
  candidate year, month or day instead of reading every row's date.
"""

import json
import uuid
from datetime import date, datetime, timedelta
from functools import cached_property

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Max, Min, Q
from django.forms.models import BaseInlineFormSet
from django.utils import formats, timezone
from django.utils.text import capfirst

from approvals.admin.changelist_checks import CheckedChangeList, CheckedChangeListAdmin

# Below this many (estimated) rows an exact COUNT(*) is cheap: count exactly.
ESTIMATE_THRESHOLD = 10_000


def planner_estimate(queryset) -> int | None:
    """Rows the planner expects: table statistics when unfiltered, else EXPLAIN's estimate."""
    if queryset.query.is_empty():  # .none(): no SQL at all, so nothing to explain
        return 0
    if not queryset.query.where:
        with connection.cursor() as cursor:
            cursor.execute(
                "select reltuples::bigint from pg_class where oid = to_regclass(%s)",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        # -1 means never analyzed: no estimate.
        return row[0] if row and row[0] >= 0 else None
    explained = queryset.order_by().explain(format="json")
    if not explained:  # Django found that no row can match (`size_bytes=` past bigint) and sent no SQL
        return 0
    plan = json.loads(explained)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    is_estimate = False

    @cached_property
    def count(self) -> int:
        estimate = planner_estimate(self.object_list)
        if estimate is not None and estimate >= ESTIMATE_THRESHOLD:
            self.is_estimate = True
            return estimate
        return super().count


# An artifact's content: a list never shows it, and it may be megabytes, or
# JSON nested too deeply to decode. Lists do not read it at all.
ARTIFACT_CONTENT = ("body_text", "body_json", "metadata")


def artifact_content(*paths: str) -> tuple[str, ...]:
    """ARTIFACT_CONTENT of the artifact at each path ("" for the listed artifact itself)."""
    return tuple(f"{path}__{column}" if path else column for path in paths for column in ARTIFACT_CONTENT)


class DateHierarchyChangeList(CheckedChangeList):
    """Django's date drill-down, without reading every row's date; no column the list does not show.

    Django lists the years (months, days) present with SELECT DISTINCT over the
    filtered rows: a scan of millions of index entries. Here the candidates come
    from MIN/MAX (two index probes), and one query asks EXISTS per candidate.
    """

    def get_queryset(self, request, exclude_parameters=None):
        return super().get_queryset(request, exclude_parameters).defer(*self.model_admin.list_deferred)

    def get_filters(self, request):
        # Django's date drill-down computes the end of the year (month, day)
        # chosen: past 9999 that is no date, and the admin's answer to a wrong
        # filter (back to the unfiltered list) is the right one.
        try:
            return super().get_filters(request)
        except (ValueError, OverflowError) as error:
            raise IncorrectLookupParameters(error) from error

    @cached_property
    def bounded_date_hierarchy(self) -> dict:
        field = self.date_hierarchy
        year, month, day = (self.params.get(f"{field}__{part}") for part in ("year", "month", "day"))
        try:
            year, month, day = (int(v) if v else None for v in (year, month, day))
            return self._drill_down(field, year, month, day)
        except (TypeError, ValueError, OverflowError):  # not numbers, or past the calendar's ends
            return {"show": False}

    def _drill_down(self, field: str, year: int | None, month: int | None, day: int | None) -> dict:
        queryset = self.queryset.order_by()

        def link(**parts) -> str:
            return self.get_query_string({f"{field}__{k}": v for k, v in parts.items()}, [f"{field}__"])

        if year and month and day:
            selected = date(year, month, day)
            return {
                "show": True,
                "back": {"link": link(year=year, month=month), "title": _format(selected, "YEAR_MONTH_FORMAT")},
                "choices": [{"title": _format(selected, "MONTH_DAY_FORMAT")}],
            }
        if not year:
            bounds = queryset.aggregate(first=Min(field), last=Max(field))
            if bounds["first"] is None:
                return {"show": False}
            first, last = timezone.localtime(bounds["first"]), timezone.localtime(bounds["last"])
            if first.year != last.year:
                candidates = [(date(y, 1, 1), date(y + 1, 1, 1)) for y in range(first.year, last.year + 1)]
                present = self._present(queryset, field, candidates)
                return {
                    "show": True,
                    "choices": [{"link": link(year=s.year), "title": str(s.year)} for s, _ in present],
                }
            year = first.year
            month = first.month if first.month == last.month else None
        if not month:
            candidates = [(date(year, m, 1), _next_month(date(year, m, 1))) for m in range(1, 13)]
            present = self._present(queryset, field, candidates)
            return {
                "show": True,
                "back": {"link": link(), "title": "All dates"},
                "choices": [
                    {"link": link(year=year, month=s.month), "title": _format(s, "YEAR_MONTH_FORMAT")}
                    for s, _ in present
                ],
            }
        first_day = date(year, month, 1)
        days = (_next_month(first_day) - first_day).days
        candidates = [(first_day + timedelta(days=n), first_day + timedelta(days=n + 1)) for n in range(days)]
        present = self._present(queryset, field, candidates)
        return {
            "show": True,
            "back": {"link": link(year=year), "title": str(year)},
            "choices": [
                {"link": link(year=year, month=month, day=s.day), "title": _format(s, "MONTH_DAY_FORMAT")}
                for s, _ in present
            ],
        }

    def _present(self, queryset, field: str, candidates: list[tuple[date, date]]) -> list[tuple[date, date]]:
        """The candidates holding at least one of the filtered rows: one query, one index probe each.

        The changelist's own filtered query goes in as a subquery, which
        PostgreSQL flattens, so each probe is a range condition on the index.
        """
        rows_sql, rows_params = queryset.order_by().values_list(field, flat=True).query.sql_with_params()
        sql = (
            "select n from unnest(%s::timestamptz[], %s::timestamptz[]) with ordinality as bucket(lo, hi, n) "  # noqa: S608 Django-compiled subquery, params passed
            f"where exists (select 1 from ({rows_sql}) as filtered(moment) "
            "where filtered.moment >= bucket.lo and filtered.moment < bucket.hi)"
        )
        lows, highs = [_aware(lo) for lo, _ in candidates], [_aware(hi) for _, hi in candidates]
        with connection.cursor() as cursor:
            cursor.execute(sql, [lows, highs, *rows_params])
            found = {row[0] for row in cursor.fetchall()}
        return [c for n, c in enumerate(candidates, start=1) if n in found]


def _aware(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day))


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _format(day: date, fmt: str) -> str:
    return capfirst(formats.date_format(day, fmt))


def bounded_formset(limit: int) -> type[BaseInlineFormSet]:
    """An inline formset showing only the first `limit` rows of its (ordered) queryset."""

    class BoundedInlineFormSet(BaseInlineFormSet):
        def get_queryset(self):
            if not hasattr(self, "_bounded"):
                self._bounded = super().get_queryset()[:limit]
            return self._bounded

    return BoundedInlineFormSet


class BigTableAdmin(CheckedChangeListAdmin):
    """Defaults for a table that may hold millions of rows."""

    show_full_result_count = False
    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    # Columns compared with a pasted UUID (each has an index).
    uuid_search_fields: tuple[str, ...] = ("pk",)
    # Columns (through list_select_related too) the list does not read.
    list_deferred: tuple[str, ...] = ()

    def get_changelist(self, request, **kwargs):
        return DateHierarchyChangeList

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            value = uuid.UUID(search_term.strip())
        except ValueError:
            return self.get_text_search_results(request, queryset, search_term)
        match = Q()
        for field in self.uuid_search_fields:
            match |= Q(**{field: value})
        return queryset.filter(match), False

    def get_text_search_results(self, request, queryset, search_term):
        return super().get_search_results(request, queryset, search_term)


class ReadOnlyInline(admin.TabularInline):
    """A bounded, read-only list of related rows, each linking to its own page."""

    show_change_link = True
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

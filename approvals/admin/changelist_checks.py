"""A changelist's query string is checked before the page is built: a filter PostgreSQL would refuse is
Django admin's "wrong filter" answer (back to the list with ?e=1), never a 500.

Django admin validates what Python can (an unknown field, a malformed UUID or
date), but some values only fail in PostgreSQL, once the page is rendering:
a NUL byte (no PostgreSQL text holds one), `?reasons__contains=garbage` (a
malformed array literal), a number past bigint. Those are caught here, while
the changelist is built, where IncorrectLookupParameters is still the answer.
"""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import EmptyResultSet
from django.db import DataError, ProgrammingError, transaction

NUL = "\x00"


def holds_nul(query_dict) -> bool:
    """Whether a filter, the order or the page (any key or value but the search) holds a NUL byte.

    The search box's own form already refuses one ("Null characters are not allowed.") and lists everything.
    """
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in query_dict.lists() if key != SEARCH_VAR
    )


class CheckedChangeList(ChangeList):
    def get_queryset(self, request, exclude_parameters=None):
        if holds_nul(request.GET):
            raise IncorrectLookupParameters("A filter holds a NUL byte.")
        queryset = super().get_queryset(request, exclude_parameters)
        # Only filters and searches from the query string can be malformed;
        # the plain list pays for no extra round trip.
        if exclude_parameters is None and (self.get_filters_params() or self.query):
            planned_by_postgres(queryset)
        return queryset


def planned_by_postgres(queryset) -> None:
    """EXPLAIN (plan, not run) the filtered query: PostgreSQL parses every literal and parameter there, so a
    value it refuses raises IncorrectLookupParameters now rather than a DataError while the page renders.

    Compiling it catches what fails in Django first (`created_at__year=0` has
    no first day). In a savepoint, so a refusal leaves the request's
    transaction usable.
    """
    if queryset.query.is_empty():  # .none(): no SQL, nothing to refuse
        return
    try:
        with transaction.atomic(using=queryset.db):
            queryset.order_by().explain()
    except EmptyResultSet:  # a filter no row can match: the page says so itself
        return
    except (ValueError, OverflowError, DataError, ProgrammingError) as refusal:
        raise IncorrectLookupParameters(refusal) from refusal


class CheckedChangeListAdmin(admin.ModelAdmin):
    """The checked changelist, and a search for a NUL byte (as the autocomplete views send) matching nothing."""

    def get_changelist(self, request, **kwargs):
        return CheckedChangeList

    def get_search_results(self, request, queryset, search_term):
        if NUL in search_term:
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)

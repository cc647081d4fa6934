"""The admin prints a timestamp Python cannot hold as PostgreSQL stores it ("-infinity"), not as 0001-01-01.

Django's admin formats every date of a changelist cell and a read-only field
through `display_for_field` and `display_for_value`, which its changelist tag
library and its form helpers import by name; no ModelAdmin hook reaches
that formatting for model fields (a model field beats an admin method of
the same name). So the names those two modules use are replaced by versions
that print a StoredTimestamp's `.stored` (approvals/plumbing/pg_timestamps.py)
and defer to Django's for every other value. All timestamp fields of this
admin are read-only, so no form ever shows, or saves back, the clamped value.
test_pg_timestamps.py fails if a Django upgrade moves these names.
"""

from django.contrib.admin import helpers, utils
from django.contrib.admin.templatetags import admin_list

from approvals.plumbing.pg_timestamps import stored_text


def display_for_field(value, field, empty_value_display, *args, **kwargs):
    stored = stored_text(value)
    return stored if stored is not None else utils.display_for_field(value, field, empty_value_display, *args, **kwargs)


def display_for_value(value, empty_value_display, *args, **kwargs):
    stored = stored_text(value)
    return stored if stored is not None else utils.display_for_value(value, empty_value_display, *args, **kwargs)


def install() -> None:
    helpers.display_for_field = display_for_field
    admin_list.display_for_field = display_for_field
    admin_list.display_for_value = display_for_value

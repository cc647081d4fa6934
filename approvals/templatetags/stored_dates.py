"""The `date` filter of every template, printing a timestamp Python cannot hold as PostgreSQL stores it.

A builtin of the template engine (flowsite/settings.py TEMPLATES), loaded
after Django's own, so `{{ value|date:"Y-m-d H:i" }}` needs no `{% load %}`:
an ordinary value formats as Django formats it; a StoredTimestamp or
StoredDate (approvals/plumbing/pg_timestamps.py) prints its `.stored` text
("-infinity", "0044-03-15 00:00:00+00 BC") rather than the clamped end of
Python's range it compares as.
"""

from django import template
from django.template import defaultfilters

from approvals.plumbing.pg_timestamps import stored_text

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    stored = stored_text(value)
    return stored if stored is not None else defaultfilters.date(value, arg)

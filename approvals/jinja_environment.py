"""The Jinja2 environment of the queue's rows: the reviewer pages' one hot loop.

A queue page repeats its row 50 to 100 times. Rendered by the Django template
engine, the rows cost more than the database did (docs/benchmarks.md,
"Reviewer pages near the floor"); a per-row fragment cache only moved the cost
into hashing keys and unpickling entries. Jinja2 compiles the row to Python
once, and renders 50 rows in about 2 ms with no cache at all. The
page around the rows stays a Django template, like every other page, and
includes them with the `jinja` tag (approvals/templatetags/review_tags.py).

Figures, times and links are formatted in plain Python here, not by Django's
`date`, `intcomma` and `reverse`: those look up the active language and URL
prefix on every call, and were most of a rendered page's time. They print what
the Django templates print for this app (en-us, UTC, fixed URL patterns), and
test_queue.py compares the two.
"""

import uuid
from functools import cache

from django.urls import reverse
from django.utils import timezone
from jinja2 import Environment

from approvals.templatetags.review_tags import usd, waited

_PLACEHOLDER = uuid.UUID(int=0)


@cache
def _uuid_url_parts(name: str) -> tuple[str, str]:
    # Once per process: the script prefix (SCRIPT_NAME) is the same for every request a deployment serves.
    prefix, _, suffix = reverse(name, args=[_PLACEHOLDER]).partition(str(_PLACEHOLDER))
    return prefix, suffix


def uuid_url(name: str, value: uuid.UUID) -> str:
    """reverse(name, args=[value]) for a URL whose one argument is a UUID, reversed once per name."""
    if not isinstance(value, uuid.UUID):
        raise TypeError(f"{name} takes a UUID, not {type(value).__name__}")
    prefix, suffix = _uuid_url_parts(name)
    return f"{prefix}{value}{suffix}"


def iso_datetime(local) -> str:
    """Django's date:'c' of a value already in the current time zone (the `localtime` filter)."""
    return local.isoformat()


def minute_datetime(local) -> str:
    """Django's date:'Y-m-d H:i T' (DATETIME_FORMAT with its zone) of a value in the current time zone."""
    return local.strftime("%Y-%m-%d %H:%M %Z")


def thousands(value) -> str:
    """Django's intcomma for en-us."""
    return f"{value:,}"


def environment(**options) -> Environment:
    env = Environment(**options)  # noqa: S701 (Django's Jinja2 backend turns autoescape on)
    env.globals["uuid_url"] = uuid_url
    env.filters.update(
        localtime=timezone.localtime,
        iso_datetime=iso_datetime,
        minute_datetime=minute_datetime,
        thousands=thousands,
        usd=usd,
        waited=waited,
    )
    return env

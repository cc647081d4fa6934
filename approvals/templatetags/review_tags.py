"""Template helpers of the reviewer pages: the preview include and compact figures."""

import json
from datetime import datetime

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils import timezone

from approvals.figures import format_duration_ms, format_usd
from approvals.files.previews import ArtifactPreview
from approvals.plumbing.pg_timestamps import stored_text
from approvals.selectors import queue as review_queue

register = template.Library()


@register.simple_tag(takes_context=True)
def render_preview(context, preview: ArtifactPreview) -> str:
    """Include the preview's template with its own context pushed on top of the page's."""
    included = context.template.engine.get_template(preview.template_name)
    with context.push(**preview.context):
        return included.render(context)


@register.filter
def capped_count(count: int | None) -> str:
    """A count capped at review_queue.COUNT_CAP: "1,000+" past the cap."""
    if count is None:
        return ""
    if count > review_queue.COUNT_CAP:
        return f"{intcomma(review_queue.COUNT_CAP)}+"
    return intcomma(count)


@register.filter
def waited(since: datetime | None) -> str:
    """How long ago, in the largest one or two units: "45 min", "3 h 20 min", "2 d 4 h".

    A time Python cannot hold (approvals/plumbing/pg_timestamps.py) has no length of wait: "unknown
    (created -infinity)".
    """
    if since is None:
        return ""
    return waited_until(since, timezone.now())


def waited_until(since: datetime, now: datetime) -> str:
    """How long from `since` to `now`, as `waited` prints it (a page of rows reads the clock once)."""
    if (stored := stored_text(since)) is not None:
        return f"unknown (created {stored})"
    minutes = max(0, int((now - since).total_seconds() // 60))
    if minutes < 1:
        return "<1 min"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    if days < 14:
        return f"{days} d {hours} h" if hours else f"{days} d"
    return f"{days // 7} w"


# Money and durations print as on every other page (approvals/figures.py).
usd = register.filter("usd", format_usd)
duration_ms = register.filter("duration_ms", format_duration_ms)


@register.filter
def metadata_pairs(metadata) -> list[tuple[str, str]]:
    """(key, value) lines for any JSON the pipeline stored as metadata; non-string values as compact JSON."""
    if isinstance(metadata, dict):
        items = metadata.items()
    elif metadata in (None, [], ""):
        items = []
    else:
        items = [("metadata", metadata)]
    return [(str(key), metadata_value(value)) for key, value in items]


def metadata_value(value) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)

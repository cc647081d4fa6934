"""HTTP Range (RFC 9110 section 14) for one range per request: what video seeking and PDF loading send."""

import re

from django.utils.http import parse_http_date_safe

BEYOND_ANY_OBJECT = 10**18
_SINGLE_RANGE = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*")


class RangeNotSatisfiable(Exception):
    """The range starts beyond the end of the object (HTTP 416)."""


def requested_range(
    header: str | None, *, size: int, if_range: str | None, etag: str, last_modified: int
) -> tuple[int, int] | None:
    """(first byte, last byte) inclusive, or None to send the whole object.

    Malformed and multi-range headers are ignored (the whole object is a valid
    answer to them); If-Range that no longer matches means the client's
    partial copy is stale, so it gets the whole object too.
    """
    if not header or not _if_range_holds(if_range, etag=etag, last_modified=last_modified):
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _SINGLE_RANGE.fullmatch(spec)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = (_position(digits) for digits in match.groups())
    if first is None:
        suffix = last
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - suffix), size - 1
    start = first
    if last is not None and last < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    end = last if last is not None else size - 1
    return start, min(end, size - 1)


def _position(digits: str) -> int | None:
    """A byte position, or None when absent. Past 18 digits it is beyond any object (and int() refuses 4,300)."""
    if digits == "":
        return None
    digits = digits.lstrip("0") or "0"
    return int(digits) if len(digits) <= 18 else BEYOND_ANY_OBJECT


def _if_range_holds(if_range: str | None, *, etag: str, last_modified: int) -> bool:
    if not if_range:
        return True
    if_range = if_range.strip()
    if if_range.startswith(('"', "W/")):
        # If-Range needs a strong match: a weak ETag never validates a range.
        return not if_range.startswith("W/") and if_range == etag
    return parse_http_date_safe(if_range) == last_modified

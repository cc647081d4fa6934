"""Keyset pagination: the position of the last row shown, and how many rows a page may show.

Lists never use OFFSET: a page starts after the (timestamp, id) of the row
before it, which an index on that pair serves at any depth.
"""

import calendar
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from approvals.plumbing.pg_timestamps import StoredTimestamp

# The text PostgreSQL (DateStyle ISO, zone UTC) sends for a timestamptz Python cannot hold.
_STORED = re.compile(
    r"(?P<infinite>-?infinity)"
    r"|(?P<year>\d{4,8})-(?P<month>\d\d)-(?P<day>\d\d)"
    r" ([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?\+00(?P<bc> BC)?"
)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass(frozen=True)
class Cursor:
    """A keyset position: the (timestamp, id) of the last row shown. Encoded as `<µs since epoch>_<uuid>`,
    or `<PostgreSQL's text>_<uuid>` for a timestamp Python cannot hold (approvals/plumbing/pg_timestamps.py),
    so the next page starts exactly after that row."""

    at: datetime
    id: uuid.UUID

    _EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

    def encode(self) -> str:
        if isinstance(self.at, StoredTimestamp):
            return f"{self.at.stored}_{self.id}"
        micros = (self.at - self._EPOCH) // timedelta(microseconds=1)
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        """Raise ValueError for anything that is not a cursor this module wrote."""
        micros, sep, raw_id = value.partition("_")
        if not sep:
            raise ValueError("not a cursor")
        if not micros.lstrip("-").isdigit():
            return cls(at=_stored_timestamp(micros), id=uuid.UUID(raw_id))
        try:
            at = cls._EPOCH + timedelta(microseconds=int(micros))
        except OverflowError as exc:
            raise ValueError("cursor out of range") from exc
        return cls(at=at, id=uuid.UUID(raw_id))


def _stored_timestamp(text: str) -> StoredTimestamp:
    """The StoredTimestamp of PostgreSQL's text, checked to be a real date: PostgreSQL rejects anything else."""
    match = _STORED.fullmatch(text)
    if match is None:
        raise ValueError("not a cursor")
    if match["infinite"]:
        return StoredTimestamp(text, not text.startswith("-"), UTC)
    year, month, day = int(match["year"]), int(match["month"]), int(match["day"])
    astronomical = 1 - year if match["bc"] else year
    # Leap years repeat every 400 years: a year of the same place in the cycle has the same months.
    if year == 0 or not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(2000 + astronomical % 400, month)[1]:
        raise ValueError("not a cursor")
    return StoredTimestamp(text, not match["bc"], UTC)

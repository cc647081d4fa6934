"""Keyset pagination: the position of the last row shown, and how many rows a page may show.

Lists never use OFFSET: a page starts after the (timestamp, id) of the row
before it, which an index on that pair serves at any depth.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


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

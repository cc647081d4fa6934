"""Timestamps and dates PostgreSQL holds but Python cannot: infinity, -infinity, BC, years past 9999.

Every timestamptz, timestamp and date column accepts them and the pipeline
writes its rows directly, so nothing stops one arriving. psycopg's loaders
raise DataError on such a value, which made every page that read the row a
500. On each new connection the loaders Django registered are wrapped
(`install`, called on `connection_created`): a value Python can hold loads as
before; one it cannot loads as a StoredTimestamp or StoredDate, clamped to
the nearest end of Python's range (so sorting and comparing still work) and
carrying `.stored`, the text PostgreSQL sent. (Two such values at the same
end compare equal in Python: PostgreSQL's own order is kept by the queries.)
Pages print `.stored` (`stored_text`); the dumpers send `.stored` back, so a
keyset cursor or a filter on such a row matches exactly that row.
"""

import struct
from datetime import UTC, date, datetime

from psycopg import DataError, postgres
from psycopg.adapt import Dumper, Loader
from psycopg.pq import Format

# PostgreSQL's binary timestamps count microseconds, dates days, from 2000-01-01;
# the extreme integers stand for -infinity and infinity.
_UNIX_TO_PG_EPOCH_DAYS = 10_957
_INFINITE_MICROS = {2**63 - 1: "infinity", -(2**63): "-infinity"}
_INFINITE_DAYS = {2**31 - 1: "infinity", -(2**31): "-infinity"}
_MICROS_PER_DAY = 86_400_000_000


class StoredTimestamp(datetime):
    """A timestamp Python cannot hold: datetime.min or datetime.max, with `.stored`, PostgreSQL's text of it."""

    stored: str

    def __new__(cls, stored: str, future: bool, tzinfo=None):
        end = datetime.max if future else datetime.min
        self = super().__new__(cls, *end.timetuple()[:6], end.microsecond, tzinfo=tzinfo)
        self.stored = stored
        return self

    def __reduce_ex__(self, protocol):
        # Pickled by the fragment cache, copied by Django: datetime's own reduction would lose `.stored`.
        return (type(self), (self.stored, self.year == datetime.max.year, self.tzinfo))

    def astimezone(self, tz=None):
        # No wall clock shows infinity or a BC moment; converting the clamped end could overflow.
        return self

    def replace(self, *args, **kwargs):
        return self

    def isoformat(self, sep="T", timespec="auto"):
        return self.stored

    def __str__(self):
        return self.stored

    def __repr__(self):
        return f"StoredTimestamp({self.stored!r})"


class StoredDate(date):
    """A date Python cannot hold: date.min or date.max, with `.stored`, PostgreSQL's text of it."""

    stored: str

    def __new__(cls, stored: str, future: bool):
        end = date.max if future else date.min
        self = super().__new__(cls, end.year, end.month, end.day)
        self.stored = stored
        return self

    def __reduce_ex__(self, protocol):
        return (type(self), (self.stored, self.year == date.max.year))

    def isoformat(self):
        return self.stored

    def __str__(self):
        return self.stored

    def __repr__(self):
        return f"StoredDate({self.stored!r})"


def stored_text(value) -> str | None:
    """PostgreSQL's text of a value Python could not hold, or None for any other value."""
    return value.stored if isinstance(value, StoredTimestamp | StoredDate) else None


def _is_future(text: str) -> bool:
    return not (text.startswith("-") or text.endswith(" BC"))


def _civil_date(days: int) -> str:
    """A proleptic Gregorian date of `days` since 2000-01-01 in PostgreSQL's text ("0044-03-15 BC"), any year.

    Howard Hinnant's days-to-civil algorithm: Python's date stops at years 1 and 9999.
    """
    z = days + _UNIX_TO_PG_EPOCH_DAYS + 719_468  # days since 0000-03-01
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = yoe + era * 400 + (month <= 2)
    return f"{year:04d}-{month:02d}-{day:02d}" if year > 0 else f"{1 - year:04d}-{month:02d}-{day:02d} BC"


def _binary_timestamp_text(micros: int, zone: str) -> str:
    if micros in _INFINITE_MICROS:
        return _INFINITE_MICROS[micros]
    days, rest = divmod(micros, _MICROS_PER_DAY)
    day, _, era = _civil_date(days).partition(" ")
    seconds, micros = divmod(rest, 1_000_000)
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if micros:
        clock += f".{micros:06d}".rstrip("0")
    return f"{day} {clock}{zone}{' ' + era if era else ''}"


def _binary_date_text(days: int) -> str:
    return _INFINITE_DAYS.get(days) or _civil_date(days)


def _text_of(data, format: Format, oid_name: str) -> str:
    if format == Format.TEXT:
        return bytes(data).decode()
    if oid_name == "date":
        return _binary_date_text(struct.unpack("!i", bytes(data))[0])
    return _binary_timestamp_text(struct.unpack("!q", bytes(data))[0], "+00" if oid_name == "timestamptz" else "")


def _stored_loader(base: type[Loader], oid_name: str) -> type[Loader]:
    """A loader that loads as `base` (the one the connection had) does, and what Python cannot hold as a
    Stored value. It wraps an instance: psycopg's C loaders cannot be subclassed."""

    class StoredValueLoader(Loader):
        format = base.format
        # Django's create_cursor compares the connection's timestamptz loader's zone with its own.
        timezone = getattr(base, "timezone", None)
        wraps_stored_values = True

        def __init__(self, oid, context=None):
            super().__init__(oid, context)
            self._base = base(oid, context)

        def load(self, data):
            try:
                return self._base.load(data)
            except DataError:
                text = _text_of(data, self.format, oid_name)
                if oid_name == "date":
                    return StoredDate(text, _is_future(text))
                # Django's timestamptz loader sets the connection's zone (UTC) on what it loads.
                zone = (self.timezone or UTC) if oid_name == "timestamptz" else None
                return StoredTimestamp(text, _is_future(text), zone)

    StoredValueLoader.__name__ = StoredValueLoader.__qualname__ = f"Stored{base.__name__}"
    return StoredValueLoader


class StoredTimestampDumper(Dumper):
    """Sends a StoredTimestamp back as the text it was read from: it compares equal to that row's value only."""

    oid = postgres.types["timestamptz"].oid

    def dump(self, obj):
        return obj.stored.encode()


class StoredDateDumper(Dumper):
    oid = postgres.types["date"].oid

    def dump(self, obj):
        return obj.stored.encode()


def install(adapters) -> None:
    """Wrap the timestamptz, timestamp and date loaders of `adapters` (a connection's) and add the dumpers.

    Idempotent: a pooled connection may be handed to Django more than once.
    """
    for oid_name in ("timestamptz", "timestamp", "date"):
        oid = postgres.types[oid_name].oid
        for format in (Format.TEXT, Format.BINARY):
            loader = adapters.get_loader(oid, format)
            if loader is not None and not getattr(loader, "wraps_stored_values", False):
                adapters.register_loader(oid, _stored_loader(loader, oid_name))
    adapters.register_dumper(StoredTimestamp, StoredTimestampDumper)
    adapters.register_dumper(StoredDate, StoredDateDumper)


def on_connection_created(sender, connection, **kwargs) -> None:
    """connection_created receiver (approvals/apps.py): PostgreSQL connections only."""
    if connection.vendor == "postgresql":
        install(connection.connection.adapters)

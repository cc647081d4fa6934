"""JSON columns that any value PostgreSQL accepts can be read from, however deeply nested.

PostgreSQL stores jsonb nested thousands of levels deep; Python's decoder
gives up near a thousand (its recursion limit). Such a value is read as
UndecodedJSON, its text as PostgreSQL wrote it, so a page shows it as text
instead of failing, and saving the row writes the same text back.
"""

import json

from django.db import models
from django.db.backends.postgresql.psycopg_any import Jsonb


class UndecodedJSON(str):
    """The text of a JSON value too deeply nested for Python to decode."""


class PipelineJSONField(models.JSONField):
    def from_db_value(self, value, expression, connection):
        try:
            return super().from_db_value(value, expression, connection)
        except RecursionError:
            return UndecodedJSON(value)

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, UndecodedJSON):
            return Jsonb(value, dumps=str)
        return super().get_db_prep_value(value, connection, prepared)

    def deconstruct(self):
        # The column is a plain jsonb: migrations see a JSONField, and
        # makemigrations has nothing to add for a change that is only in Python.
        name, _, args, kwargs = super().deconstruct()
        return name, "django.db.models.JSONField", args, kwargs


def json_text(value) -> tuple[str, bool]:
    """(text, indented) for showing a JSON value: indented when Python can walk it, else as one line.

    The indenting encoder recurses in Python, so it can fail on a value the
    decoder still managed; the compact encoder (in C) then still writes it.
    """
    if isinstance(value, UndecodedJSON):
        return str(value), False
    try:
        return json.dumps(value, indent=2, ensure_ascii=False), True
    except RecursionError:
        return json.dumps(value, ensure_ascii=False), False

"""The suite's own guarantees: what the browser tests relax stays inside them.

No database mark: pytest-django runs such tests last, after every browser test.
"""

import asyncio

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.db import connection


def test_django_still_refuses_sync_database_calls_in_an_event_loop_outside_browser_tests():
    async def cursor_from_a_coroutine():
        return connection.cursor()

    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(cursor_from_a_coroutine())

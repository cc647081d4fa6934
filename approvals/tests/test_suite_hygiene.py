"""The suite's own guarantees: what the browser tests relax stays inside them, and their markers select them.

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


# What `make test-fast` leaves out, by marker: a test using the fixture must carry the marker.
MARKED_BY_FIXTURE = {"browser": "browser", "smoke": "bench"}


def test_every_browser_test_and_benchmark_smoke_run_carries_the_marker_that_selects_it(request):
    """Checks the tests this run collected: all of them under `make test`, and under `make test-fast`
    every one left after selection, where an unmarked browser test or smoke run would be.
    """
    unmarked = [
        f"{item.nodeid} uses {fixture} but is not marked {marker}"
        for item in request.session.items
        for fixture, marker in MARKED_BY_FIXTURE.items()
        if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None
    ]

    assert unmarked == []

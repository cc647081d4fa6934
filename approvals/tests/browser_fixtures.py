"""One Chromium per browser test module (Playwright's sync API allows one per thread).

Per module, not per session: while Playwright's sync API is open it keeps an
event loop running in the main thread, which would put every later test of the
session inside it (test_suite_hygiene.py checks that it does not).

Without Chromium the browser tests are skipped, unless FLOW_REQUIRE_BROWSER=1
(as in CI), which makes them fail.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("FLOW_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing_browser() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed"
    if not Path(CHROMIUM).exists():
        return f"No Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    """Chromium, or, when it is missing and required, the reason (each test then fails with it)."""
    missing = _missing_browser()
    if missing:
        if os.environ.get("FLOW_REQUIRE_BROWSER") == "1":
            yield missing
            return
        pytest.skip(f"{missing} (set FLOW_REQUIRE_BROWSER=1 to make this a failure)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@contextmanager
def sync_database_calls_allowed(item: pytest.Item):
    """In a browser test (marked `browser`, or using the fixture), from its setup to its teardown:
    let Django make synchronous database calls.

    Playwright's sync API keeps an event loop running in this thread, and Django
    refuses synchronous database calls while one runs (SynchronousOnlyOperation);
    the tests' own calls, and pytest-django's flush after them, are synchronous by
    design. Every other test keeps Django's check (conftest.py's
    pytest_runtest_protocol applies this around each test).
    """
    if item.get_closest_marker("browser") is None and "browser" not in getattr(item, "fixturenames", ()):
        yield
        return
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous

"""One Chromium for every browser test in the session (Playwright's sync API allows one per thread).

Without Chromium the browser tests are skipped, unless FLOW_REQUIRE_BROWSER=1
(as in CI), which makes them fail.
"""

import os
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


@pytest.fixture(scope="session")
def browser():
    """Chromium, or, when it is missing and required, the reason (each test then fails with it)."""
    missing = _missing_browser()
    if missing:
        if os.environ.get("FLOW_REQUIRE_BROWSER") == "1":
            yield missing
            return
        pytest.skip(f"{missing} (set FLOW_REQUIRE_BROWSER=1 to make this a failure)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the
    # test's own database calls are still synchronous, so Django must allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous

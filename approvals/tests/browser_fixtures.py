"""One Chromium per browser test module (Playwright's sync API allows one per thread), and its pages.

Per module, not per session: while Playwright's sync API is open it keeps an
event loop running in the main thread, which would put every later test of the
session inside it (test_suite_hygiene.py checks that it does not).

Without Chromium the browser tests are skipped, unless FLOW_REQUIRE_BROWSER=1
(as in CI), which makes them fail.
"""

import json
import os
from collections import defaultdict
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


TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 860}


class Console:
    """Errors the page reported: script errors, and any resource the CSP blocked."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on(
            "console",
            lambda message: message.type == "error" and self.errors.append(f"{message.text} ({page.url})"),
        )
        page.on("pageerror", lambda error: self.errors.append(str(error)))


class PagePool:
    """The module's pages, each in a browser context of its own, handed to one test at a time.

    A new page costs Chromium about half a second of CPU (a renderer process
    starting), a navigation a tenth of that: a page goes back to the pool at
    the end of its test, emptied (about:blank, no cookies, no permissions), and
    the next test asking for the same context options gets it. Each page
    records the dialogs it dismissed (`page.dialogs`) and its console errors
    (`page.console.errors`), both emptied when it is handed out.
    """

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.idle = defaultdict(list)  # context options (as JSON) -> pages
        self.in_use: list[tuple[str, object]] = []

    def take(self, options: dict):
        key = json.dumps(options, sort_keys=True)
        page = self.idle[key].pop() if self.idle[key] else self.open(options)
        page.console.errors.clear()
        page.dialogs.clear()
        self.in_use.append((key, page))
        return page

    def open(self, options: dict):
        context = self.browser.new_context(base_url=self.base_url, **options)
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.console = Console(page)
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    def give_back(self) -> None:
        from playwright.sync_api import Error

        for key, page in self.in_use:
            try:
                page.goto("about:blank")
                page.context.clear_cookies()
                page.context.clear_permissions()
            except Error:
                page.context.close()  # a page that cannot be emptied is not handed out again
            else:
                self.idle[key].append(page)
        self.in_use.clear()

    def close(self) -> None:
        for pages in self.idle.values():
            for page in pages:
                page.context.close()


@pytest.fixture(scope="module")
def page_pool(browser, live_server):
    if isinstance(browser, str):
        yield browser
        return
    pool = PagePool(browser, live_server.url)
    yield pool
    pool.close()


@pytest.fixture
def open_page(page_pool, live_server):
    """`open_page(session=None, **context options)`: an empty page on the live server, 1280x860 unless the
    options give a viewport; with `session`, logged in with that session key (from a test client's login).
    """
    if isinstance(page_pool, str):
        pytest.fail(f"{page_pool}, and FLOW_REQUIRE_BROWSER=1 requires the browser tests", pytrace=False)

    def open_page(*, session: str | None = None, **options):
        page = page_pool.take({"viewport": DESKTOP} | options)
        if session:
            page.context.add_cookies([{"name": "sessionid", "value": session, "url": live_server.url}])
        return page

    yield open_page
    page_pool.give_back()


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


def log_in(page, *, username: str, password: str) -> None:
    """Sign in through the login form, as a person would, and wait for the queue."""
    from playwright.sync_api import expect

    page.goto("/")
    expect(page).to_have_url("/login/?next=/")  # login required
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()

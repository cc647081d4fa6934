"""Two reviewers at once, each in a browser context of their own: claims, live updates, undo."""

import re

import pytest

from approvals.tests.factories import make_queue, make_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_pipeline_db")]

PASSWORD = "review-pass-123"
# What "live" promises: another reviewer's change shows within this long, with no reload.
LIVE_MS = 3_000


def logged_in(open_page, username: str):
    from playwright.sync_api import expect

    make_reviewer(username, password=PASSWORD)
    page = open_page()
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()
    return page


def test_two_reviewers_see_each_others_claims_decisions_and_undo_live(open_page):
    from playwright.sync_api import expect

    first, second, third = make_queue("first-post", "second-post", "third-post")
    ben = logged_in(open_page, "ben")
    ana = logged_in(open_page, "ana")
    second_row = ben.locator(f"#queue-row-{second.artifact_id}")

    # Ana opens the second item: Ben's queue says so, without a reload.
    ana.goto(f"/approvals/{second.id}/")
    expect(second_row).to_contain_text("Reviewing: ana", timeout=LIVE_MS)

    # In the queue, j passes over Ana's row too.
    ben.keyboard.press("j")
    expect(ben.get_by_role("link", name="first-post")).to_be_focused()
    ben.keyboard.press("j")
    expect(ben.get_by_role("link", name="third-post")).to_be_focused()

    # Ben opens the first; his "Next" (j) passes over Ana's item.
    ben.get_by_role("link", name="first-post").click()
    expect(ben).to_have_url(f"/approvals/{first.id}/")
    ben.keyboard.press("j")
    expect(ben).to_have_url(f"/approvals/{third.id}/")
    expect(ben.get_by_role("heading", level=1)).to_contain_text("third-post")
    ben.get_by_role("link", name="← Queue").click()
    expect(second_row).to_contain_text("Reviewing: ana")

    # Ana decides: the row leaves Ben's queue, without a reload.
    ana.get_by_role("button", name="Approve").click()
    expect(ana.locator("#messages")).to_contain_text("Approved second-post v1.")
    expect(second_row).to_be_hidden(timeout=LIVE_MS)
    expect(ben.locator("tr[data-queue-row]")).to_have_count(2)

    # Ana's Undo brings it back into Ben's queue, hers again.
    ana.get_by_role("button", name="Undo").click()
    expect(ana.locator("#messages")).to_contain_text("Undone: the item is pending again.")
    expect(second_row).to_be_visible(timeout=LIVE_MS)
    expect(second_row).to_contain_text("Reviewing: ana", timeout=LIVE_MS)
    expect(ben.locator("tr[data-queue-row]")).to_have_count(3)
    assert ben.console.errors == [] and ana.console.errors == []


def test_live_updates_on_the_review_page_leave_the_notes_being_typed_alone(open_page):
    from playwright.sync_api import expect

    (item,) = make_queue("launch-post")
    ben = logged_in(open_page, "ben")
    ben.goto(f"/approvals/{item.id}/")
    notes = ben.get_by_label("Notes")
    notes.click()
    ben.keyboard.type("Half a thought")

    ana = logged_in(open_page, "ana")
    ana.goto(f"/approvals/{item.id}/")
    expect(ana.locator("#live-status")).to_contain_text("Reviewing: ben", timeout=LIVE_MS)
    ana.get_by_label("Notes").fill("Good.")
    ana.get_by_role("button", name="Approve").click()

    expect(ben.locator("#live-status")).to_contain_text(re.compile(r"Approved\s+by ana"), timeout=LIVE_MS)
    ben.keyboard.type(", still typing")
    expect(notes).to_have_value("Half a thought, still typing")
    expect(notes).to_be_focused()
    assert ben.console.errors == [] and ana.console.errors == []

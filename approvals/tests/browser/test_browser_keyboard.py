"""The keyboard never traps and never turns a rejection's reason into an approval (real Chromium, live server).

Without Chromium these tests skip, unless FLOW_REQUIRE_BROWSER=1 (CI), where they fail.
"""

import pytest
from django.urls import reverse

from approvals.models import Approval, ApprovalStatus
from approvals.tests.factories import make_pending_review, make_reviewer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_pipeline_db"),
]


@pytest.fixture
def reviewer_page(open_page, client):
    """A logged-in reviewer's page (session cookie from the test client), console errors collected."""
    client.force_login(make_reviewer("keys_reviewer"))
    return open_page(session=client.cookies["sessionid"].value)


def open_review(page, approval: Approval) -> None:
    from playwright.sync_api import expect

    page.goto(reverse("approval-detail", args=[approval.id]))
    expect(page.get_by_role("heading", level=1)).to_contain_text(approval.artifact.name)


def test_reject_after_reason_required_is_sent_with_ctrl_enter(reviewer_page):
    from playwright.sync_api import expect

    first, second = make_pending_review(name="needs-reason"), make_pending_review(name="after-it")
    page = reviewer_page
    open_review(page, first)

    page.keyboard.press("r")
    page.keyboard.press("Control+Enter")  # no reason yet: refused with a 422
    expect(page.get_by_text("A reason is required to reject")).to_be_visible()
    hint = page.locator("#notes-hint")
    expect(hint).to_contain_text("Rejecting")  # the decision being prepared stays in view
    expect(page.get_by_label("Notes")).to_be_focused()

    page.keyboard.type("Say who it is for.")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text(second.artifact.name)
    first.refresh_from_db()
    assert (first.status, first.notes) == (ApprovalStatus.REJECTED, "Say who it is for.")


def test_a_refuses_notes_written_to_reject(reviewer_page):
    from playwright.sync_api import expect

    approval = make_pending_review(name="half-rejected")
    page = reviewer_page
    open_review(page, approval)

    page.keyboard.press("r")
    page.keyboard.type("Too long for X.")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    expect(page.locator("#notes-hint")).to_contain_text("written to reject")
    page.keyboard.press("n")  # approving through Notes is refused too
    page.keyboard.press("Control+Enter")
    expect(page.locator("#notes-hint")).to_contain_text("written to reject")
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING

    page.keyboard.press("Escape")
    page.keyboard.press("r")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("heading", name="Queue empty")).to_be_visible()
    approval.refresh_from_db()
    assert (approval.status, approval.notes) == (ApprovalStatus.REJECTED, "Too long for X.")
    assert page.console.errors == [], page.console.errors


def test_a_after_the_422_does_not_approve_with_the_reason(reviewer_page):
    from playwright.sync_api import expect

    approval = make_pending_review(name="reason-after-422")
    page = reviewer_page
    open_review(page, approval)

    page.keyboard.press("r")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_text("A reason is required to reject")).to_be_visible()
    page.keyboard.type("Wrong product name.")
    page.keyboard.press("Escape")
    page.keyboard.press("a")
    expect(page.locator("#notes-hint")).to_contain_text("written to reject")
    approval.refresh_from_db()
    assert approval.status == ApprovalStatus.PENDING


def test_escape_leaves_the_search_box_for_the_list(reviewer_page):
    from playwright.sync_api import expect

    make_pending_review(name="alpha-post")
    make_pending_review(name="beta-post")
    page = reviewer_page
    page.goto(reverse("queue"))

    page.keyboard.press("/")
    search = page.locator("#id_q")
    expect(search).to_be_focused()
    page.keyboard.press("Escape")
    expect(search).not_to_be_focused()
    page.keyboard.press("j")  # a key again, not text in the box
    expect(page.get_by_role("link", name="alpha-post")).to_be_focused()
    expect(search).to_have_value("")


def test_enter_in_the_search_box_selects_the_first_match(reviewer_page):
    from playwright.sync_api import expect

    make_pending_review(name="alpha-post")
    beta = make_pending_review(name="beta-post")
    page = reviewer_page
    page.goto(reverse("queue"))

    page.keyboard.press("/")
    page.keyboard.type("beta")
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="beta-post")).to_be_focused()
    expect(page.locator("tr[data-queue-row]")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/approvals/{beta.id}/?q=beta")
    expect(page.get_by_role("heading", level=1)).to_contain_text("beta-post")
    assert page.console.errors == [], page.console.errors

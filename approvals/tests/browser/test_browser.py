"""The reviewer's flow in a real Chromium (Playwright, sync API) against a live server.

Without Chromium these tests are skipped, unless FLOW_REQUIRE_BROWSER=1 (as in
CI), which makes them fail. Screenshots go to a temporary folder; `make screenshots`
saves them to docs/screenshots/ (pytest's --screenshots option).
"""

import pytest

from approvals.models import Approval, ApprovalStatus, JobStatus
from approvals.tests.browser_fixtures import log_in
from approvals.tests.factories import make_pending_review, make_reviewer

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_pipeline_db")]


def expect_loaded_thumbnails(page, *, count: int) -> None:
    from playwright.sync_api import expect

    thumbnails = page.locator("tr[data-queue-row] img.thumb")
    expect(thumbnails).to_have_count(count)
    for index in range(count):
        expect(thumbnails.nth(index)).to_have_js_property("complete", True)
    assert all(width > 0 for width in thumbnails.evaluate_all("images => images.map(img => img.naturalWidth)"))


def test_a_reviewer_works_through_the_demo_queue(open_page, demo_site, screenshots_dir):
    from playwright.sync_api import expect

    page = open_page()
    log_in(page, **demo_site)
    pending = list(
        Approval.objects.filter(status=ApprovalStatus.PENDING)
        .order_by("created_at", "id")
        .values_list("id", "artifact__name", "artifact__version")
    )
    total = len(pending)
    expect(page.locator(".match-count")).to_have_text(f"{total} pending")
    expect(page.locator("tr[data-queue-row]")).to_have_count(total)
    expect_loaded_thumbnails(page, count=3)  # the demo's three images
    page.screenshot(path=screenshots_dir / "queue.png", full_page=True, caret="initial")

    # Keyboard: j highlights the oldest row, Enter opens it.
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    (first_id, first_name, first_version), (second_id, second_name, _) = pending[0], pending[1]
    expect(page).to_have_url(f"/approvals/{first_id}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(first_name)
    expect(page.get_by_text("Changes since v1")).to_be_visible()  # the demo's revision story
    page.screenshot(path=screenshots_dir / "review.png", full_page=True, caret="initial")

    # Approve with a note, keyboard only: n focuses Notes, Ctrl+Enter approves.
    page.keyboard.press("n")
    expect(page.get_by_label("Notes")).to_be_focused()
    page.keyboard.type("Benefit first now. Approved.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#messages")).to_contain_text(f"Approved {first_name} v{first_version}.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(second_name)
    expect(page).to_have_url(f"/approvals/{second_id}/")
    expect(page.locator("#queue-count")).to_have_text(f"{total - 1} pending")

    # Reject the next one with a reason, with the button.
    page.get_by_label("Notes").fill("Too long for X: keep it under 200 characters.")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator("#messages")).to_contain_text(f"Rejected {second_name} v1.")
    expect(page.locator("#queue-count")).to_have_text(f"{total - 2} pending")

    page.get_by_role("link", name="History").click()
    rows = page.locator("#history-rows tr")
    expect(rows.filter(has_text=first_name).filter(has_text="Benefit first now. Approved.")).to_have_count(1)
    expect(rows.filter(has_text=second_name).filter(has_text="keep it under 200 characters")).to_have_count(1)

    approved, rejected = Approval.objects.get(id=first_id), Approval.objects.get(id=second_id)
    assert (approved.status, approved.decided_by, approved.notes) == (
        "approved",
        "demo",
        "Benefit first now. Approved.",
    )
    assert (rejected.status, rejected.decided_by) == ("rejected", "demo")
    assert [job.status for job in approved.artifact.output_jobs.all()] == [JobStatus.DONE]
    (job,) = rejected.artifact.output_jobs.all()
    assert (job.status, job.error) == (
        JobStatus.FAILED,
        "Rejected by demo: Too long for X: keep it under 200 characters.",
    )
    assert Approval.objects.filter(status=ApprovalStatus.PENDING).count() == total - 2
    assert page.console.errors == [], page.console.errors


def test_the_whole_queue_can_be_reviewed_with_the_keyboard_alone(open_page):
    from playwright.sync_api import expect

    make_reviewer("kim", password="kim-pass-12345")
    items = [make_pending_review(name=f"draft-{n}") for n in range(4)]
    page = open_page()
    log_in(page, username="kim", password="kim-pass-12345")

    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("draft-0")
    page.keyboard.press("j")  # next and previous on the review page, swapped in by htmx
    expect(page.get_by_role("heading", level=1)).to_contain_text("draft-1")
    expect(page).to_have_url(f"/approvals/{items[1].id}/")
    page.keyboard.press("k")
    expect(page.get_by_role("heading", level=1)).to_contain_text("draft-0")

    # r focuses Notes; letters typed there are text, not shortcuts (this note holds a, j, k and r).
    page.keyboard.press("r")
    expect(page.get_by_label("Notes")).to_be_focused()
    page.keyboard.type("Reads awkwardly; jokes fall flat.")
    page.keyboard.press("Control+Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("draft-1")
    for name in ("draft-2", "draft-3"):
        page.keyboard.press("a")
        expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    page.keyboard.press("a")
    expect(page.get_by_role("heading", name="Queue empty")).to_be_visible()
    expect(page.locator("#queue-count")).to_have_text("0 pending")

    decisions = dict(Approval.objects.filter(id__in=[a.id for a in items]).values_list("artifact__name", "status"))
    assert decisions == {"draft-0": "rejected", "draft-1": "approved", "draft-2": "approved", "draft-3": "approved"}
    assert Approval.objects.get(id=items[0].id).notes == "Reads awkwardly; jokes fall flat."
    assert page.console.errors == [], page.console.errors


def test_without_javascript_the_form_posts_and_redirects(open_page):
    from playwright.sync_api import expect

    make_reviewer("lee", password="lee-pass-12345")
    first, second = make_pending_review(name="plain-one"), make_pending_review(name="plain-two")
    page = open_page(java_script_enabled=False)
    log_in(page, username="lee", password="lee-pass-12345")

    page.get_by_role("link", name="plain-one").click()
    page.get_by_role("button", name="Reject", exact=True).click()  # no reason: refused, nothing changes
    expect(page.get_by_text("A reason is required to reject")).to_be_visible()
    page.get_by_label("Notes").fill("Fine as it is.")
    page.get_by_role("button", name="Approve", exact=True).click()

    expect(page).to_have_url(f"/approvals/{second.id}/")
    expect(page.locator("#messages")).to_contain_text("Approved plain-one v1.")
    first.refresh_from_db()
    assert (first.status, first.notes) == ("approved", "Fine as it is.")


def test_pages_fit_a_phone_screen(open_page):
    make_reviewer("pat", password="pat-pass-12345")
    approval = make_pending_review(name="a-rather-long-artifact-name-for-a-small-screen", body_text="word " * 400)
    page = open_page(viewport={"width": 390, "height": 844})
    log_in(page, username="pat", password="pat-pass-12345")

    for path in ("/", f"/approvals/{approval.id}/", "/history/"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
    assert page.console.errors == [], page.console.errors


def test_a_page_handed_out_again_is_empty(page_pool, open_page):
    """The module's tests share pages (browser_fixtures.PagePool): one test's login must not reach the next."""
    make_reviewer("ray", password="ray-pass-12345")
    page = open_page()
    log_in(page, username="ray", password="ray-pass-12345")
    page.evaluate("console.error('left behind')")
    assert page.context.cookies() and page.console.errors
    page_pool.give_back()

    again = open_page()

    assert again is page  # the same page, emptied
    assert (again.url, again.context.cookies(), again.console.errors) == ("about:blank", [], [])
    again.goto("/")
    assert again.url.endswith("/login/?next=/")

"""Layout and console in real Chromium: the phone layout of a review, the admin index at 390 px, a clean console.

Without Chromium these tests skip, unless FLOW_REQUIRE_BROWSER=1 (CI), where they fail.
"""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from approvals.models import Approval, ApprovalStatus
from approvals.tests.factories import make_artifact, make_pending_review, make_project

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_pipeline_db"),
]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def staff_page(open_page, client):
    """A superuser's page (reviewer and staff) in a context made with the given options."""
    client.force_login(User.objects.create_superuser("layout-ops", password="layout-ops-pass-1"))
    return lambda **options: open_page(session=client.cookies["sessionid"].value, **options)


def a_revision_with_a_rejected_first_version() -> Approval:
    project = make_project(name="Launch")
    v1 = make_artifact(project=project, name="phone-post", body_text="Flow is launching. It is a tool.")
    Approval.objects.create(
        artifact=v1, status=ApprovalStatus.REJECTED, decided_by="alex", decided_at=v1.created_at, notes="Too flat."
    )
    v2 = make_artifact(
        project=project, name="phone-post", version=2, previous_version=v1, body_text="Flow saves you a day a week."
    )
    return make_pending_review(artifact=v2)


def top(page, selector: str) -> float:
    return page.locator(selector).first.bounding_box()["y"]


def test_on_a_phone_the_context_comes_before_the_decision(staff_page):
    approval = a_revision_with_a_rejected_first_version()
    page = staff_page(**PHONE)
    page.goto(reverse("approval-detail", args=[approval.id]))

    assert top(page, ".changes") < top(page, ".decision")
    assert top(page, ".versions") < top(page, ".decision")
    assert page.get_by_text("Too flat.").bounding_box()["y"] < top(page, ".decision")


def test_on_a_touch_screen_no_key_hints_show(staff_page):
    make_pending_review(name="first-post")
    approval = make_pending_review(name="second-post")
    page = staff_page(**PHONE)
    page.goto(reverse("approval-detail", args=[approval.id]))

    assert page.locator("kbd:visible").count() == 0
    page.goto(reverse("queue"))
    assert page.locator("kbd:visible").count() == 0


def test_with_a_mouse_and_keyboard_key_hints_show(staff_page):
    approval = make_pending_review(name="desk-post")
    page = staff_page(viewport={"width": 1280, "height": 860})
    page.goto(reverse("approval-detail", args=[approval.id]))

    assert page.locator(".keys-line kbd:visible").count() == 4


def test_on_a_phone_the_top_bar_is_one_row(staff_page):
    page = staff_page(**PHONE)
    page.goto(reverse("queue"))

    tops = page.locator(".topbar .brand, .topbar .nav a, .topbar .account button:visible").evaluate_all(
        "elements => elements.map(element => Math.round(element.getBoundingClientRect().top))"
    )
    bar = page.locator(".topbar").bounding_box()
    assert max(tops) - min(tops) < 12, tops
    assert bar["height"] < 56
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_the_admin_index_keeps_the_costs_dashboard_link_on_one_line_at_390px(staff_page):
    page = staff_page(**PHONE)
    page.goto(reverse("admin:index"))

    link = page.get_by_role("link", name="Costs dashboard")
    height = link.bounding_box()["height"]
    line_height = link.evaluate("element => parseFloat(getComputedStyle(element).lineHeight) || 20")
    assert height < 1.5 * line_height
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_deciding_through_every_demo_kind_leaves_the_console_clean(staff_page, demo_site):
    from playwright.sync_api import expect

    page = staff_page(viewport={"width": 1280, "height": 860})
    page.goto(reverse("queue"))
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    total = Approval.objects.filter(status=ApprovalStatus.PENDING).count()
    expect(page.locator("#queue-count")).to_have_text(f"{total} pending")
    for left in range(total - 1, -1, -1):
        page.keyboard.press("a")
        expect(page.locator("#queue-count")).to_have_text(f"{left} pending")

    expect(page.get_by_role("heading", name="Queue empty")).to_be_visible()
    assert page.console.errors == [], page.console.errors

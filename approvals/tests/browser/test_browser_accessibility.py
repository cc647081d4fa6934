"""axe-core in real Chromium: no serious or critical accessibility violation on the reviewer pages or the ops console.

axe-core comes from the axe-playwright-python package (its bundled axe.min.js,
no network), injected into each page through Playwright. The pages show the
demo data, so every preview kind a reviewer meets is checked.
"""

from pathlib import Path

import axe_playwright_python
import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from approvals.models import Approval, ApprovalStatus

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("transactional_pipeline_db"),
]

AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
BLOCKING = {"serious", "critical"}

# One demo artifact per preview kind (approvals/seeding/demo.py).
PREVIEW_KINDS = {
    "text": "launch-announcement",
    "text over the preview limit": "webinar-transcript",
    "JSON": "posting-schedule",
    "JSON nested 50 levels": "campaign-brief-nested",
    "image": "hero-banner.png",
    "video": "spring-teaser.webm",
    "audio": "podcast-jingle.wav",
    "PDF": "media-kit.pdf",
    "CSV": "campaign-results.csv",
    "markdown": "launch-plan.md",
    "SVG source": "logo-mark.svg",
    "HTML source": "landing-page.html",
    "unknown binary": "brand-assets.flowdesign",
    "missing file": "press-release-final.pdf",
}


def blocking_violations(page, path: str) -> list[str]:
    """axe-core's serious and critical findings on the page at path, as "rule: first target (impact)"."""
    page.goto(path)
    page.wait_for_load_state("load")
    page.evaluate(AXE_SOURCE)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{path} {violation['id']}: {violation['nodes'][0]['target']} ({violation['impact']})"
        for violation in results["violations"]
        if violation["impact"] in BLOCKING
    ]


def staff_session(client) -> str:
    client.force_login(User.objects.create_superuser("axe-ops", password="axe-ops-pass-123"))
    return client.cookies["sessionid"].value


def test_the_login_page_has_no_serious_accessibility_violation(open_page):
    assert blocking_violations(open_page(), reverse("login")) == []


def test_reviewer_pages_and_every_preview_kind_have_no_serious_accessibility_violation(demo_site, open_page, client):
    page = open_page(session=staff_session(client))
    pending = dict(Approval.objects.filter(status=ApprovalStatus.PENDING).values_list("artifact__name", "id"))
    decided = Approval.objects.exclude(status=ApprovalStatus.PENDING).values_list("id", flat=True).first()
    paths = [
        reverse("queue"),
        reverse("history"),
        reverse("approval-detail", args=[decided]),
        *(reverse("approval-detail", args=[pending[name]]) for name in PREVIEW_KINDS.values()),
    ]

    found = [line for path in paths for line in blocking_violations(page, path)]

    assert found == [], "\n".join(found)
    assert page.console.errors == [], page.console.errors


def test_ops_console_pages_have_no_serious_accessibility_violation(demo_site, open_page, client):
    page = open_page(session=staff_session(client))
    paths = [
        reverse("admin:index"),
        reverse("admin:approvals_approval_changelist"),
        reverse("admin:approvals_run_costs"),
    ]

    found = [line for path in paths for line in blocking_violations(page, path)]

    assert found == [], "\n".join(found)

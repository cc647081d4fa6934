"""No hostile payload runs in a real Chromium: `window.__xss` stays unset on every page.

Every page is opened with the CSP bypassed, so escaping alone is proven to
hold: the CSP is the second line, not the only one. (A pass as served would
prove nothing more: a payload the CSP stops is one this pass catches.) A
decision's swap is checked both ways.
"""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from approvals.models import Job, Run
from approvals.tests.browser_fixtures import log_in
from approvals.tests.hostile_data import ALL, BREAKOUT, IMG, SCRIPT, SVG, make_hostile_site

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_pipeline_db")]

PASSWORD = "ops-pass-123-long"


@pytest.fixture
def hostile_site(local_bucket):
    site = make_hostile_site()
    for key, data in site.files.items():
        local_bucket.put(key, data)
    User.objects.create_superuser("ops", password=PASSWORD)  # reviewer and staff: every page
    return site


def page_urls(site) -> list[str]:
    artifact = site.pending[0].artifact
    job = Job.objects.filter(output_artifact=artifact).first()
    urls = [reverse("queue"), f"{reverse('queue')}?q={SCRIPT}", reverse("history")]
    urls += [reverse("approval-detail", args=[approval.id]) for approval in site.pending]
    urls += [
        reverse(f"admin:approvals_{model}_changelist") for model in ("project", "artifact", "job", "approval", "run")
    ]
    urls += [
        reverse("admin:approvals_artifact_change", args=[artifact.id]),
        reverse("admin:approvals_project_change", args=[artifact.project_id]),
        reverse("admin:approvals_job_change", args=[job.id]),
        reverse("admin:approvals_approval_change", args=[site.decided[0].id]),
        reverse("admin:approvals_run_change", args=[Run.objects.filter(job=job).first().id]),
        reverse("admin:approvals_run_costs"),
        f"{reverse('admin:approvals_artifact_changelist')}?q={SCRIPT}",
    ]
    return urls


@pytest.fixture(params=["as served", "without the CSP"])
def page(request, open_page):
    """A page that records and dismisses any dialog (`page.dialogs`), with the CSP or without it."""
    return open_page(bypass_csp=request.param == "without the CSP")


def test_the_payloads_do_run_when_put_in_a_page_raw(page):
    # Without this, a payload with a typo would "stay inert" everywhere and prove nothing.
    for payload, flag in ((SCRIPT, 1), (IMG, 2), (SVG, 3)):
        page.set_content(f"<!doctype html><body>{payload}</body>")
        page.wait_for_function("window.__xss !== undefined")
        assert page.evaluate("window.__xss") == flag


def test_no_payload_runs_on_any_page(open_page, hostile_site):
    page = open_page(bypass_csp=True)
    log_in(page, username="ops", password=PASSWORD)

    for url in page_urls(hostile_site):
        response = page.goto(url)
        assert response.status == 200, url
        page.wait_for_load_state("load")
        if not url.startswith("/admin/"):
            assert page.evaluate("typeof htmx") == "object", url  # the page's own scripts did run
        assert page.evaluate("window.__xss") is None, url
    assert page.dialogs == []


def test_no_payload_runs_when_a_decision_swaps_in_the_next_item(page, hostile_site):
    from playwright.sync_api import expect

    log_in(page, username="ops", password=PASSWORD)
    first, second = hostile_site.pending[0], hostile_site.pending[1]
    page.goto(reverse("approval-detail", args=[first.id]))

    page.get_by_label("Notes").fill(ALL)
    page.get_by_role("button", name="Reject", exact=True).click()

    expect(page).to_have_url(f"/approvals/{second.id}/")  # htmx swapped in the next hostile item
    page.goto(reverse("history"))
    expect(page.locator("main")).to_contain_text(BREAKOUT)  # the notes, shown as text
    assert page.evaluate("window.__xss") is None
    assert page.dialogs == []

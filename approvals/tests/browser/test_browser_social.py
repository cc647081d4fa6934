"""Social posts in a real Chromium: edit an over-limit X post down to the limit and approve the edit; request
changes with reasons; the example agent answers; its next version shows the request and the diff.

Screenshots of each network's preview go to $FLOW_SOCIAL_SHOTS when set (outside the repository), else
to the test's own temporary folder.
"""

import os
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from approvals.models import Approval, ApprovalOutcome, ArtifactKind, JobStatus
from approvals.tests.browser_fixtures import log_in
from approvals.tests.factories import make_pending_review, make_project, make_reviewer
from approvals.tests.sample_files import png_bytes
from bench import example_agent

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_pipeline_db")]

LONG_X_POST = (
    "Our spring launch is live! Everything we built this winter, in one place: faster exports, shared "
    "drafts, and a calmer inbox. Thank you to every beta tester who wrote in. Read the whole story and "
    "tell us what you think, we read every reply: it helps. Dates are in our bio. #launch #spring"
)

X_POST = "Spring is here 🌸 and so is our launch: https://flow.example/blog/spring-launch-2026 #launch @flowhq"
X_THREAD = ["1/ Why we rebuilt exports 🧵", "2/ Speed: 4x faster on big projects.", "3/ Try it: https://flow.example/x"]
LINKEDIN_POST = (
    "We shipped our spring release today.\n\nThree things changed:\n1. Exports are 4x faster\n"
    "2. Drafts are shared\n3. The inbox is calmer\n\nThank you to @Ana and the whole beta group. #launch #product"
)
INSTAGRAM_CAPTION = (
    "Spring, in three slides 🌷 Swipe to see what changed this season and tell us your favourite one in the "
    "comments. #spring #launch #product"
)
FACEBOOK_POST = (
    "Our spring launch is here!\nFaster exports, shared drafts and a calmer inbox.\nCome to the live demo on "
    "Thursday at 5pm.\nBring questions.\nWe will have cake.\nAnd a few surprises. https://flow.example/demo"
)


@pytest.fixture
def shots_dir(tmp_path) -> Path:
    folder = Path(os.environ.get("FLOW_SOCIAL_SHOTS") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_edit_approve_request_changes_and_the_agents_next_version(open_page, shots_dir):
    from playwright.sync_api import expect

    make_reviewer("ana", password="ana-pass-12345")
    project = make_project(name="Spring launch")
    over = make_pending_review(
        project=project, name="x-launch", body_text=LONG_X_POST, metadata={"platform": "x", "author": "Flow"}
    )
    make_pending_review(
        project=project, name="threads-teaser", body_text="Something big is coming.", metadata={"platform": "threads"}
    )
    assert len(LONG_X_POST) == 287
    page = open_page()
    log_in(page, username="ana", password="ana-pass-12345")
    page.goto(f"/approvals/{over.id}/")

    card = page.locator("[data-platform-preview]")
    expect(card.get_by_role("heading", name="Preview: X")).to_be_visible()
    expect(card.locator(".post-count.over")).to_contain_text("287 / 280")
    expect(card).to_contain_text("Over X's limit by 7.")

    # Edit: the preview becomes an editor; the count follows the typing down to the limit.
    page.get_by_text("Edit", exact=True).click()
    editor = page.get_by_label("Edited text")
    expect(editor).to_be_visible()
    expect(card).to_be_hidden()
    editor.press("End")
    editor.press("Control+End")
    for _ in range(4):
        editor.press("Backspace")
    expect(page.locator("#edit-check [data-edit-count]")).to_have_text("283 / 280")
    expect(page.locator("#edit-check .post-count")).to_have_class("post-count over")
    for _ in range(3):
        editor.press("Backspace")
    expect(page.locator("#edit-check [data-edit-count]")).to_have_text("280 / 280")
    expect(page.locator("#edit-check .post-count")).to_have_class("post-count")
    page.screenshot(path=shots_dir / "edit-x-post.png", full_page=True, caret="initial")
    page.get_by_label("Notes").fill("Trimmed the hashtags.")
    page.get_by_role("button", name="Approve with edits").click()
    expect(page.locator("#messages")).to_contain_text("Approved with edits: x-launch v2.")
    expect(page.get_by_role("heading", level=1)).to_contain_text("threads-teaser")

    # Request changes with reasons on the next item.
    page.get_by_role("group", name="Reasons").get_by_label("Tone").check()
    page.get_by_role("group", name="Reasons").get_by_label("Length").check()
    page.get_by_label("Notes").fill("Say what is coming.")
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator("#messages")).to_contain_text("Requested changes to threads-teaser v1.")

    page.get_by_role("link", name="History", exact=True).click()
    edit_row = page.locator("#history-rows tr").filter(has_text="x-launch")
    expect(edit_row.filter(has_text="Approved with edits")).to_have_count(1)
    edit_row.filter(has_text="Approved with edits").get_by_text("The edit:").click()
    expect(edit_row.locator(".diff-remove").first).to_contain_text("#launch #spring")
    changes_row = page.locator("#history-rows tr").filter(has_text="Changes requested")
    expect(changes_row).to_contain_text("tone")
    expect(changes_row).to_contain_text("length")

    # The agent picks the revision job up and writes v2 with its pending approval.
    with psycopg.connect(**example_agent.app_connection_params(connection), autocommit=True) as agent:
        revision = example_agent.work_once(agent)
    assert revision.version == 2

    page.get_by_role("link", name="Queue", exact=True).click()
    page.get_by_role("link", name="threads-teaser").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("threads-teaser v2")
    asked = page.locator(".requested-changes")
    expect(asked).to_contain_text("Changes requested on v1")
    expect(asked).to_contain_text("Tone")
    expect(asked).to_contain_text("Length")
    expect(asked).to_contain_text("Say what is coming.")
    expect(page.get_by_role("heading", name="Changes since v1")).to_be_visible()
    expect(page.locator(".changes .diff-add")).to_contain_text("(Say what is coming.)")
    page.screenshot(path=shots_dir / "revision-v2.png", full_page=True, caret="initial")

    edited = Approval.objects.get(outcome=ApprovalOutcome.APPROVED_WITH_EDITS)
    assert edited.artifact.body_text == LONG_X_POST[:-7]
    assert [job.status for job in edited.artifact.output_jobs.all()] == [JobStatus.DONE]
    assert page.console.errors == [], page.console.errors


def test_each_networks_preview(open_page, local_bucket, shots_dir):
    from playwright.sync_api import expect

    make_reviewer("sol", password="sol-pass-12345")
    for index in range(3):
        local_bucket.put(f"spring/slide-{index}.png", png_bytes(size=(480, 480), color=(40 + 60 * index, 99, 180)))
    posts = {
        "x": dict(body_text=X_POST),
        "x-thread": dict(kind=ArtifactKind.JSON, body_json={"thread": X_THREAD}, platform="x"),
        "linkedin": dict(body_text=LINKEDIN_POST),
        "instagram": dict(
            kind=ArtifactKind.JSON,
            body_json={
                "caption": INSTAGRAM_CAPTION,
                "slides": [{"image": f"spring/slide-{index}.png", "alt": f"Slide {index + 1}"} for index in range(3)],
            },
        ),
        "threads": dict(body_text="Spring launch day ✨ what should we build next? Reply below. #buildinpublic"),
        "facebook": dict(body_text=FACEBOOK_POST),
    }
    page = open_page(viewport={"width": 1280, "height": 900})
    log_in(page, username="sol", password="sol-pass-12345")
    for key, fields in posts.items():
        platform = fields.pop("platform", key)
        approval = make_pending_review(name=f"{key}-post", metadata={"platform": platform, "author": "Flow"}, **fields)
        page.goto(f"/approvals/{approval.id}/")
        card = page.locator("[data-platform-preview]")
        name = {
            "x": "X",
            "linkedin": "LinkedIn",
            "instagram": "Instagram",
            "threads": "Threads",
            "facebook": "Facebook",
        }
        expect(card.get_by_role("heading", name=f"Preview: {name[platform]}")).to_be_visible()
        if key == "instagram":
            images = card.locator(".slide img")
            expect(images).to_have_count(3)
            for index in range(3):
                expect(images.nth(index)).to_have_js_property("complete", True)
            assert all(width == 480 for width in images.evaluate_all("images => images.map(i => i.naturalWidth)"))
        if key == "x-thread":
            expect(card.locator(".post")).to_have_count(3)
        card.screenshot(path=shots_dir / f"preview-{key}.png")
    assert page.console.errors == [], page.console.errors


def test_without_javascript_an_edit_is_approved_and_changes_are_requested(open_page):
    from playwright.sync_api import expect

    make_reviewer("noa", password="noa-pass-12345")
    edited = make_pending_review(name="plain-edit", body_text="Launch day!!", metadata={"platform": "x"})
    asked = make_pending_review(name="plain-ask", body_text="Soon.", metadata={"platform": "threads"})
    page = open_page(java_script_enabled=False)
    log_in(page, username="noa", password="noa-pass-12345")

    page.goto(f"/approvals/{edited.id}/")
    page.get_by_text("Edit", exact=True).click()
    page.get_by_label("Edited text").fill("Launch day!")
    page.get_by_role("button", name="Approve with edits").click()
    expect(page.locator("#messages")).to_contain_text("Approved with edits: plain-edit v2.")
    expect(page).to_have_url(f"/approvals/{asked.id}/")
    page.get_by_role("group", name="Reasons").get_by_label("Accuracy").check()
    page.get_by_role("button", name="Request changes").click()
    expect(page.locator("#messages")).to_contain_text("Requested changes to plain-ask v1.")

    assert Approval.objects.get(outcome=ApprovalOutcome.APPROVED_WITH_EDITS).artifact.body_text == "Launch day!"
    assert Approval.objects.get(id=asked.id).reasons == ["accuracy"]

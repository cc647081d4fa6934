"""The review page: preview, details, jobs and runs, earlier versions with diffs, j/k neighbours, query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import Approval, Artifact, ArtifactKind
from approvals.selectors.filters import QueueFilters
from approvals.selectors.review import VERSION_CHAIN_LIMIT, review_context
from approvals.tests.factories import make_artifact, make_job, make_pending_review, make_project, make_run

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def decided(approval: Approval, *, status: str = "rejected", by: str = "alex", notes: str = "") -> Approval:
    Approval.objects.filter(id=approval.id).update(
        status=status, decided_by=by, decided_at=timezone.now(), notes=notes or None
    )
    approval.refresh_from_db()
    return approval


def at(approval: Approval, *, hours_ago: float) -> Approval:
    Approval.objects.filter(id=approval.id).update(created_at=timezone.now() - timedelta(hours=hours_ago))
    return approval


def revision_chain(texts: list[str], *, kind: str = ArtifactKind.TEXT) -> list[Artifact]:
    project = make_project(name="Launch")
    chain, previous = [], None
    for version, body in enumerate(texts, start=1):
        fields = {"body_text": body} if kind == ArtifactKind.TEXT else {"body_json": body}
        previous = make_artifact(
            project=project, name="launch-post", kind=kind, version=version, previous_version=previous, **fields
        )
        chain.append(previous)
    return chain


def test_review_page_shows_preview_details_and_decision_form(reviewer_client):
    approval = make_pending_review(
        name="launch-post", body_text="We're live <b>today</b>!", metadata={"platform": "linkedin", "tags": ["a"]}
    )

    response = reviewer_client.get(reverse("approval-detail", args=[approval.id]))

    body = response.content.decode()
    assert response.status_code == 200
    assert '<h1 tabindex="-1">launch-post' in body
    assert "We&#x27;re live &lt;b&gt;today&lt;/b&gt;!" in body  # pipeline text is escaped, never rendered
    assert '<dt>platform</dt><dd class="wrap">linkedin</dd>' in body
    assert '<dd class="wrap">[&quot;a&quot;]</dd>' in body
    assert '<label for="id_notes">Notes</label>' in body
    assert ">Approve</button>" in body and ">Reject</button>" in body
    assert reverse("approval-decide", args=[approval.id]) in body


def test_review_page_shows_each_job_with_its_runs_and_totals(reviewer_client):
    approval = make_pending_review(with_run=False)
    job = approval.artifact.output_jobs.get()
    make_run(job=job, model="gpt-4o-mini", prompt_tokens=1000, completion_tokens=200, duration_ms=1500)
    make_run(job=job, model="claude-3-5-sonnet", prompt_tokens=800, completion_tokens=100, cost_usd="0.012000")
    make_job(output_artifact=approval.artifact, status="failed", kind="draft_post").runs.create(
        model="gemini-1.5-pro", prompt_tokens=50, completion_tokens=50
    )

    review = review_context(approval_id=approval.id)
    body = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert [len(summary.runs) for summary in review.jobs] == [2, 1]
    assert review.jobs[0].totals.total_tokens == 2100
    assert review.totals.total_tokens == 2200
    assert str(review.totals.cost_usd) == "0.012360"
    for text in ["gpt-4o-mini", "claude-3-5-sonnet", "gemini-1.5-pro", "2,100", "All jobs: 2,200 tokens", "$0.01236"]:
        assert text in body


def test_a_job_without_runs_and_an_artifact_without_jobs_are_shown_plainly(reviewer_client):
    no_runs = make_pending_review(with_run=False)
    no_job = Approval.objects.create(artifact=make_artifact())

    assert "No runs recorded." in reviewer_client.get(reverse("approval-detail", args=[no_runs.id])).content.decode()
    body = reviewer_client.get(reverse("approval-detail", args=[no_job.id])).content.decode()
    assert "No job recorded as producing this artifact." in body


def test_earlier_versions_show_diffs_and_the_notes_of_their_decisions(reviewer_client):
    v1, v2, v3 = revision_chain(
        ["Flow is launching.\nTry it.", "Flow launches today.\nTry it.", "Flow launches today!\n"]
    )
    decided(make_pending_review(artifact=v1), notes="Too flat. Lead with the benefit.")
    decided(make_pending_review(artifact=v2), notes="Drop the second line.")
    approval = make_pending_review(artifact=v3)

    review = review_context(approval_id=approval.id)
    body = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert [entry.artifact.version for entry in review.versions] == [2, 1]
    assert [line.text for line in review.changes.lines if line.kind in ("add", "remove")] == [
        "-Flow launches today.",
        "-Try it.",
        "+Flow launches today!",
    ]
    assert review.versions[0].diff.old_version == 1
    assert review.versions[1].diff is None  # v1 revises nothing
    assert "Changes since v2" in body
    assert '<span class="diff-line diff-add">+Flow launches today!</span>' in body
    assert "Too flat. Lead with the benefit." in body and "Drop the second line." in body
    assert "The first version." not in body  # a version with nothing before it needs no caption


def test_json_versions_are_diffed_as_pretty_json():
    v1, v2 = revision_chain([{"slides": ["Plan", "Ship"]}, {"slides": ["Plan", "Draft", "Ship"]}], kind="json")
    approval = make_pending_review(artifact=v2)

    changes = review_context(approval_id=approval.id).changes

    # Compared as indented JSON (the earlier version came through the raw chain query, parsed too).
    assert (changes.added, changes.removed) == (1, 0)
    assert [line.text for line in changes.lines if line.kind == "add"] == ['+    "Draft",']


def test_a_file_version_has_no_line_diff():
    project = make_project()
    v1 = make_artifact(project=project, name="hero.png", kind=ArtifactKind.FILE, mime_type="image/png")
    v2 = make_artifact(
        project=project, name="hero.png", kind=ArtifactKind.FILE, mime_type="image/png", version=2, previous_version=v1
    )
    review = review_context(approval_id=make_pending_review(artifact=v2).id)
    assert review.changes is None
    assert [entry.artifact.id for entry in review.versions] == [v1.id]


def test_the_version_chain_is_bounded(reviewer_client):
    chain = revision_chain([f"version {n}" for n in range(1, VERSION_CHAIN_LIMIT + 6)])
    approval = make_pending_review(artifact=chain[-1])

    review = review_context(approval_id=approval.id)
    body = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert len(review.versions) == VERSION_CHAIN_LIMIT
    assert review.versions_truncated
    assert review.versions[-1].diff is not None  # the last one shown is still diffed against its predecessor
    assert "Older versions are not shown." in body


def test_a_cycle_in_previous_versions_does_not_loop():
    first, second = revision_chain(["one", "two"])
    Artifact.objects.filter(id=first.id).update(previous_version=second)  # the pipeline wrote a cycle

    review = review_context(approval_id=make_pending_review(artifact=second).id)

    assert [entry.artifact.id for entry in review.versions] == [first.id]


def test_earlier_decisions_on_the_same_version_are_shown(reviewer_client):
    artifact = make_artifact()
    decided(make_pending_review(artifact=artifact), status="approved", by="sam", notes="Looked fine then.")
    reopened = Approval.objects.create(artifact=artifact)

    body = reviewer_client.get(reverse("approval-detail", args=[reopened.id])).content.decode()

    assert "Earlier decisions on this version" in body
    assert "Looked fine then." in body and "by sam" in body


def test_j_and_k_go_to_the_next_and_previous_pending_items(reviewer_client):
    oldest = at(make_pending_review(name="oldest"), hours_ago=3)
    middle = at(make_pending_review(name="middle"), hours_ago=2)
    newest = at(make_pending_review(name="newest"), hours_ago=1)
    decided(at(make_pending_review(name="decided"), hours_ago=2.5))

    review = review_context(approval_id=middle.id)
    body = reviewer_client.get(reverse("approval-detail", args=[middle.id])).content.decode()

    assert (review.previous_id, review.next_id) == (oldest.id, newest.id)
    assert review.pending_count == 3
    assert f'href="{reverse("approval-detail", args=[newest.id])}" rel="next" data-nav="next"' in body
    assert f'href="{reverse("approval-detail", args=[oldest.id])}" rel="prev" data-nav="previous"' in body
    assert review_context(approval_id=oldest.id).previous_id is None
    assert review_context(approval_id=newest.id).next_id is None


def test_neighbours_stay_within_the_queue_filters(reviewer_client):
    launch = make_project(name="Launch")
    first = at(make_pending_review(project=launch, name="first"), hours_ago=3)
    at(make_pending_review(name="elsewhere"), hours_ago=2)
    last = at(make_pending_review(project=launch, name="last"), hours_ago=1)

    review = review_context(approval_id=first.id, filters=QueueFilters(project_id=launch.id))
    body = reviewer_client.get(reverse("approval-detail", args=[first.id]), {"project": launch.id}).content.decode()

    assert review.next_id == last.id
    assert review.pending_count == 2
    assert f"{reverse('approval-detail', args=[last.id])}?project={launch.id}" in body
    assert "(filtered)" in body


def test_a_decided_approval_shows_the_decision_instead_of_the_form(reviewer_client):
    approval = decided(make_pending_review(), status="approved", by="sam", notes="Ship it.")

    body = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert "<strong>Approved</strong> by sam" in body
    assert "Ship it." in body
    assert "data-decision-form" not in body


def test_htmx_navigation_returns_the_panel_and_the_count(reviewer_client):
    approval = make_pending_review(name="swapped-in")

    response = reviewer_client.get(reverse("approval-detail", args=[approval.id]), **HTMX)

    body = response.content.decode()
    assert "<html" not in body
    assert '<article id="review"' in body and "swapped-in" in body
    assert 'id="queue-count" class="pending-count" hx-swap-oob="true"' in body
    assert "<title>swapped-in v1 · Review · Flow Review</title>" in body
    assert "HX-Request" in response["Vary"]


def test_an_unknown_approval_is_404(reviewer_client):
    assert reviewer_client.get("/approvals/00000000-0000-4000-8000-000000000000/").status_code == 404


@pytest.mark.parametrize("path", ["/approvals/not-a-uuid/", "/approvals/1234/", "/approvals/%27%20or%201=1/"])
def test_a_malformed_approval_id_is_404(reviewer_client, path):
    assert reviewer_client.get(path).status_code == 404


def _review_queries(client, approval: Approval) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("approval-detail", args=[approval.id]))
    assert response.status_code == 200
    return len(queries)


def test_a_review_page_costs_a_fixed_number_of_queries(reviewer_client):
    plain = make_pending_review()
    chain = revision_chain(["a", "b", "c", "d"])
    for artifact in chain[:-1]:
        decided(make_pending_review(artifact=artifact), notes="again")
    rich = make_pending_review(artifact=chain[-1])
    for _ in range(4):
        make_run(job=rich.artifact.output_jobs.get())
    make_run(job=make_job(output_artifact=rich.artifact, status="failed"))

    assert _review_queries(reviewer_client, plain) <= _review_queries(reviewer_client, rich) <= 10

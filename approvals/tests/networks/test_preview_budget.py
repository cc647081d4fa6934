"""The platform card and the editor's live check stay within their budget whatever the pipeline wrote.

The worst cases: an X thread of 100,000 posts, an Instagram carousel of 100,000
slides, a 1 MB X post, and the live check of a thread as long as the editor
holds. Server time is the CPU time of this process (the app's own work: on a
shared 2-core machine wall time mostly measures the other processes); both are
printed, and the CPU time must stay under CARD_PAGE_BUDGET_SECONDS, the budget
docs/security.md states. The request for changes a revision answers is read from
the job's params, which may hold any JSON.
"""

import json
import time
import uuid

import pytest
from django.urls import reverse

from approvals.models import NOTES_MAX_LENGTH, ArtifactKind, Job
from approvals.networks.budget import CARD_POSTS, CARD_SLIDES, POST_CHARACTERS_PER_LIMIT, WEIGHTED_CARD_CHARACTERS
from approvals.networks.limits import NETWORKS
from approvals.networks.preview import preview_of
from approvals.revisions import EDIT_MAX_CHARACTERS
from approvals.tests.factories import make_artifact, make_pending_review

pytestmark = pytest.mark.django_db

# Measured 8 Dec 2026 on the 2-core box (others' tests running), CPU per page:
# before the budget the thread took 38 s, the carousel 5.2 s, the 1 MB post
# 6.3 s, the live check 2.2 s; now at most 0.4 s (the thread's first render,
# with twitter-text's import; what is left of the JSON pages is pretty-printing
# their 4-6 MB bodies for the JSON preview). 1 s leaves room for a busy machine.
CARD_PAGE_BUDGET_SECONDS = 1.0
HUGE = 100_000


def server_seconds(send) -> float:
    """The best CPU time of up to three requests (the first also warms caches); one far over budget is no noise."""
    cpu, wall = [], []
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = send()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        assert response.status_code == 200
        if cpu[-1] < CARD_PAGE_BUDGET_SECONDS or cpu[-1] > 5 * CARD_PAGE_BUDGET_SECONDS:
            break
    print(f"cpu {[round(t * 1000) for t in cpu]} ms, wall {[round(t * 1000) for t in wall]} ms")
    return min(cpu)


def card_of(page: str) -> str:
    return page.split('id="platform-preview-title"')[1].split("</section>")[0]


def review_page(client, approval) -> tuple[float, str]:
    url = reverse("approval-detail", args=[approval.id])
    seconds = server_seconds(lambda: client.get(url))
    return seconds, client.get(url).content.decode()


@pytest.mark.slow
def test_a_100000_post_thread_shows_the_first_posts_within_budget(reviewer_client):
    thread = [f"Post {n} of the launch thread #launch" for n in range(1, HUGE + 1)]
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": thread}, metadata={"platform": "x"})

    seconds, page = review_page(reviewer_client, approval)

    assert seconds < CARD_PAGE_BUDGET_SECONDS, f"{seconds * 1000:.0f} ms"
    assert f"Showing and counting the first {CARD_POSTS} of 100,000 posts" in page
    assert page.count('<article class="post"') == CARD_POSTS
    assert f"Post {CARD_POSTS} of the launch thread" in page
    assert f"Post {CARD_POSTS + 1} of the launch thread" not in card_of(page)


@pytest.mark.slow
def test_a_100000_slide_carousel_shows_the_first_slides_within_budget(reviewer_client):
    slides = [{"image": f"proj/1/slide-{n}.png", "alt": f"Slide {n}"} for n in range(HUGE)]
    approval = make_pending_review(
        kind=ArtifactKind.JSON, body_json={"caption": "Our year", "slides": slides}, metadata={"platform": "instagram"}
    )

    seconds, page = review_page(reviewer_client, approval)

    assert seconds < CARD_PAGE_BUDGET_SECONDS, f"{seconds * 1000:.0f} ms"
    assert f"Showing the first {CARD_SLIDES} of 100,000 slides" in page
    assert "100,000 slides: Instagram allows at most 20." in page
    assert page.count('<li class="slide">') == CARD_SLIDES
    assert "1 / 100,000" in page


@pytest.mark.slow
def test_a_megabyte_x_post_is_counted_in_part_within_budget(reviewer_client):
    body = ("Launch day! Read https://example.com/launch #launch @flow " * 20_000)[: 1024 * 1024]
    approval = make_pending_review(body_text=body, metadata={"platform": "x"})

    seconds, page = review_page(reviewer_client, approval)

    counted = 280 * POST_CHARACTERS_PER_LIMIT
    assert seconds < CARD_PAGE_BUDGET_SECONDS, f"{seconds * 1000:.0f} ms"
    assert f"counted the first {counted:,} of 1,048,576 characters" in page
    assert "Over X&#x27;s limit by at least" in page
    assert len(card_of(page)) < 4 * counted  # the card holds the counted part, not the megabyte


def thread_as_long_as_the_editor_holds(post_length: int) -> tuple[str, int]:
    """A thread of distinct posts (no count is answered from a cache) filling the editor."""
    posts = (EDIT_MAX_CHARACTERS - 100) // (post_length + 12)
    body = json.dumps({"thread": [f"{n} {'a' * post_length}" for n in range(posts)]})
    assert len(body) <= EDIT_MAX_CHARACTERS
    return body, posts


@pytest.mark.slow
@pytest.mark.parametrize("post_length", [2, 281], ids=["many-short-posts", "posts-over-the-limit"])
def test_the_live_check_of_a_long_thread_stays_within_budget(reviewer_client, post_length):
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": ["one"]}, metadata={"platform": "x"})
    body, posts = thread_as_long_as_the_editor_holds(post_length)
    url = reverse("approval-edit-check", args=[approval.id])

    seconds = server_seconds(lambda: reviewer_client.post(url, {"edited_body": body}))
    check = reviewer_client.post(url, {"edited_body": body}).content.decode()

    assert seconds < CARD_PAGE_BUDGET_SECONDS, f"{seconds * 1000:.0f} ms"
    assert f"Showing and counting the first {CARD_POSTS} of {posts:,} posts" in check
    assert check.count("data-edit-count") == CARD_POSTS


def test_a_thread_past_the_budget_says_how_many_posts_were_not_counted(reviewer_client):
    thread = ["fine"] * CARD_POSTS + ["a" * 281] * 5
    approval = make_pending_review(kind=ArtifactKind.JSON, body_json={"thread": thread}, metadata={"platform": "x"})

    page = reviewer_client.get(reverse("approval-detail", args=[approval.id])).content.decode()

    assert f"Showing and counting the first {CARD_POSTS} of 30 posts; the other 5 are not counted." in page
    assert "Over X&#x27;s limit by 1." not in page  # the posts over the limit are past those counted
    assert f"{CARD_POSTS}/30" in page


def test_a_thread_of_long_x_posts_stops_where_the_cards_characters_run_out():
    preview = preview_of(network=NETWORKS["x"], value={"thread": ["a" * 5000] * 25}, artifact_id=None, author="Flow")

    counted = 280 * POST_CHARACTERS_PER_LIMIT
    assert len(preview.posts) == WEIGHTED_CARD_CHARACTERS // counted
    assert [post.count.length for post in preview.posts] == [counted] * len(preview.posts)
    assert preview.posts[0].count.problems == (
        f"Over X's limit by at least {counted - 280:,}: counted the first {counted:,} of 5,000 characters.",
    )
    assert preview.notices == ["Showing and counting the first 5 of 25 posts; the other 20 are not counted."]


def test_a_post_under_the_limit_in_its_counted_part_says_the_rest_was_not_counted():
    long_link = "See https://example.com/" + "a" * 5000  # X counts a link as 23, however long
    post = preview_of(network=NETWORKS["x"], value=long_link, artifact_id=None, author="Flow").posts[0]

    assert post.count.length == 27
    assert post.count.partial and post.count.over
    assert post.count.problems == ("Only the first 2,800 of 5,024 characters were counted: the rest is not.",)


def answering_a_request_whose_params_hold(reasons, *, notes: str = "Please tone it down") -> str:
    """The review page of a revision whose job's params are the only record of the request (its approval is gone)."""
    first = make_artifact(body_text="Launch day!!!", metadata={"platform": "x"})
    revision = make_artifact(
        project=first.project, body_text="Calmly: launch.", version=2, previous_version=first, metadata=first.metadata
    )
    approval = make_pending_review(artifact=revision)
    params = {"revision_of": str(uuid.uuid4()), "reasons": reasons, "notes": notes}
    Job.objects.filter(output_artifact=approval.artifact).update(params=params)
    return reverse("approval-detail", args=[approval.id])


@pytest.mark.parametrize(
    ("reasons", "shown"),
    [
        (5, []),
        (True, []),
        (None, []),
        ({"a": 1}, []),
        ({"tone": 1}, []),
        ("tone", ["Tone"]),
        ("not-a-code", []),
        ([1, True, None, {"a": 1}, ["legal"], "tone", "nonsense", "legal", "tone"], ["Tone", "Legal"]),
    ],
    ids=["number", "boolean", "null", "object", "object-with-a-code-as-key", "a-code", "a-string", "mixed-list"],
)
def test_the_reasons_a_revision_answers_are_read_from_any_json(reviewer_client, reasons, shown):
    response = reviewer_client.get(answering_a_request_whose_params_hold(reasons))

    page = response.content.decode()
    assert response.status_code == 200
    assert "Changes requested" in page
    assert '<blockquote class="notes">Please tone it down</blockquote>' in page
    badges = [part.split("</span>")[0] for part in page.split('<span class="badge badge-reason">')[1:]]
    assert badges == shown


def test_the_notes_of_a_revision_from_the_pipeline_are_cut_to_the_notes_limit(reviewer_client):
    response = reviewer_client.get(answering_a_request_whose_params_hold(["tone"], notes="a" * 1024 * 1024))

    page = response.content.decode()
    assert response.status_code == 200
    assert f'<blockquote class="notes">{"a" * NOTES_MAX_LENGTH}</blockquote>' in page

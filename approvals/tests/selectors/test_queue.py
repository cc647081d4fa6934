"""The pending queue: order, row figures, filters, keyset pages, the capped count, query counts."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.filter_menus import forget_project_menu
from approvals.models import Approval, ArtifactKind
from approvals.selectors import queue as review_queue
from approvals.selectors.filters import QueueFilters
from approvals.selectors.keyset import Cursor
from approvals.selectors.queue import pending_queue
from approvals.tests.factories import make_artifact, make_job, make_pending_review, make_project, make_run

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def age(approval: Approval, *, hours: float) -> Approval:
    Approval.objects.filter(id=approval.id).update(created_at=timezone.now() - timedelta(hours=hours))
    approval.refresh_from_db()
    return approval


def names(page) -> list[str]:
    return [row.name for row in page.rows]


def test_queue_lists_pending_oldest_first_and_leaves_decided_out(reviewer_client):
    newer = age(make_pending_review(name="newer"), hours=1)
    older = age(make_pending_review(name="older"), hours=5)
    decided = make_pending_review(name="decided")
    Approval.objects.filter(id=decided.id).update(status="approved", decided_by="sam", decided_at=timezone.now())

    response = reviewer_client.get(reverse("queue"))

    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("older") < body.index("newer")
    assert "decided" not in body
    assert "<strong>2</strong> pending" in body
    assert names(pending_queue(filters=QueueFilters())) == ["older", "newer"]
    assert {older.id, newer.id} == {row.id for row in pending_queue(filters=QueueFilters()).rows}


def test_a_row_sums_tokens_and_cost_over_every_run_of_every_job_that_made_the_artifact():
    project = make_project(name="Spring launch")
    first = make_artifact(project=project, name="launch-post")
    second = make_artifact(project=project, name="launch-post", version=2, previous_version=first)
    approval = make_pending_review(artifact=second, with_run=False)
    job = second.output_jobs.get()
    make_run(job=job, prompt_tokens=1000, completion_tokens=200, cost_usd="0.001000")
    make_run(job=job, prompt_tokens=500, completion_tokens=100, cost_usd="0.000500")
    retry = make_job(output_artifact=second, status="failed", kind="draft_post_retry")
    make_run(job=retry, prompt_tokens=10, completion_tokens=5, cost_usd=None)
    make_run(job=make_job(output_artifact=first), prompt_tokens=99_999)  # another version's job: not counted

    (row,) = pending_queue(filters=QueueFilters()).rows

    assert row.id == approval.id
    assert row.project_name == "Spring launch"
    assert (row.version, row.previous_version_number) == (2, 1)
    assert row.tokens == 1815
    assert row.cost_usd == Decimal("0.001500")
    assert row.job_kind == "draft_post_retry"  # the latest job
    assert row.family == "text"


def test_queue_row_shows_version_job_waited_tokens_and_cost(reviewer_client):
    first = make_artifact(name="hero-copy")
    approval = make_pending_review(
        artifact=make_artifact(name="hero-copy", project=first.project, version=3, previous_version=first)
    )
    age(approval, hours=3)

    body = reviewer_client.get(reverse("queue")).content.decode()

    assert "v3" in body and "revises v1" in body
    assert "draft_post" in body
    assert "3 h" in body
    assert "1,500" in body  # 1200 prompt + 300 completion tokens
    assert "$0.00036" in body  # the run's 0.000360, four significant digits
    assert reverse("approval-detail", args=[approval.id]) in body


def test_a_row_shows_when_the_item_arrived_as_a_machine_time_and_to_the_minute(reviewer_client):
    approval = make_pending_review(name="timed")
    arrived = datetime(2026, 3, 1, 9, 5, 7, 123456, tzinfo=UTC)
    Approval.objects.filter(id=approval.id).update(created_at=arrived)

    body = reviewer_client.get(reverse("queue")).content.decode()

    assert '<time datetime="2026-03-01T09:05:07.123456+00:00" title="2026-03-01 09:05 UTC">' in body


def test_a_row_with_over_a_thousand_tokens_prints_them_with_separators(reviewer_client):
    approval = make_pending_review(name="long", with_run=False)
    make_run(job=approval.artifact.output_jobs.get(), prompt_tokens=1_234_000, completion_tokens=567)

    assert ">1,234,567</td>" in reviewer_client.get(reverse("queue")).content.decode()


def test_a_pending_item_without_job_or_runs_still_shows():
    approval = Approval.objects.create(artifact=make_artifact(name="orphan"))

    (row,) = pending_queue(filters=QueueFilters()).rows

    assert (row.id, row.job_kind, row.tokens, row.cost_usd) == (approval.id, None, None, None)


@pytest.mark.parametrize(
    ("fields", "family"),
    [
        ({"kind": ArtifactKind.TEXT}, "text"),
        ({"kind": ArtifactKind.JSON}, "json"),
        ({"kind": ArtifactKind.FILE, "mime_type": "image/png"}, "image"),
        ({"kind": ArtifactKind.FILE, "mime_type": None, "storage_path": "p/1/hero.JPG"}, "image"),
        ({"kind": ArtifactKind.FILE, "mime_type": "application/octet-stream", "storage_path": "p/clip.webm"}, "video"),
        ({"kind": ArtifactKind.FILE, "mime_type": "video/mp4"}, "video"),
        ({"kind": ArtifactKind.FILE, "mime_type": "application/pdf"}, "pdf"),
        ({"kind": ArtifactKind.FILE, "mime_type": "application/ld+json"}, "json"),
        ({"kind": ArtifactKind.FILE, "mime_type": "text/markdown"}, "text"),
        ({"kind": ArtifactKind.FILE, "mime_type": "audio/mpeg"}, "other"),
        ({"kind": ArtifactKind.FILE, "mime_type": None, "storage_path": "p/archive.zip"}, "other"),
        # A declared type wins over a misleading extension.
        ({"kind": ArtifactKind.FILE, "mime_type": "application/pdf", "storage_path": "p/x.png"}, "pdf"),
    ],
)
def test_media_family_is_computed_in_sql_and_filters(fields, family):
    approval = make_pending_review(**fields)
    make_pending_review(kind=ArtifactKind.FILE, mime_type="application/zip", name="noise")

    matching = pending_queue(filters=QueueFilters(media=family)).rows

    assert approval.id in {row.id for row in matching}
    assert all(row.family == family for row in matching)


def test_filters_by_project_kind_wait_and_name():
    launch, brand = make_project(name="Launch"), make_project(name="Brand")
    old_post = age(make_pending_review(project=launch, name="old-post"), hours=30)
    age(make_pending_review(project=launch, name="fresh-post"), hours=0.2)
    age(make_pending_review(project=brand, name="brand-spec", kind=ArtifactKind.JSON), hours=50)

    def ids(**filters):
        return names(pending_queue(filters=QueueFilters(**filters)))

    assert ids(project_id=launch.id) == ["old-post", "fresh-post"]
    assert ids(kind=ArtifactKind.JSON) == ["brand-spec"]
    assert ids(waited=timedelta(days=1)) == ["brand-spec", "old-post"]
    assert ids(search="POST") == ["old-post", "fresh-post"]
    assert ids(project_id=launch.id, waited=timedelta(days=1), search="old") == [old_post.artifact.name]


def test_name_search_takes_like_wildcards_literally():
    make_pending_review(name="100%_real")
    make_pending_review(name="1000 real")

    assert names(pending_queue(filters=QueueFilters(search="0%_r"))) == ["100%_real"]


def test_filters_from_the_url_reach_the_page_and_its_links(reviewer_client):
    project = make_project(name="Launch")
    wanted = make_pending_review(project=project, name="wanted", kind=ArtifactKind.JSON)
    make_pending_review(name="unrelated")

    response = reviewer_client.get(reverse("queue"), {"project": str(project.id), "kind": "json", "q": "want"})

    body = response.content.decode()
    assert "wanted" in body and "unrelated" not in body
    assert "<strong>1</strong> pending match these filters" in body
    # The review link carries the filters, so j/k and "next" stay within them.
    assert f"{reverse('approval-detail', args=[wanted.id])}?q=want&amp;project={project.id}&amp;kind=json" in body


def test_invalid_filter_values_are_ignored_and_named(reviewer_client):
    make_pending_review(name="still-listed")

    response = reviewer_client.get(reverse("queue"), {"project": "not-a-uuid", "kind": "video", "waited": "1y"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "still-listed" in body
    assert "Filter ignored: Project: Enter a valid UUID." in body
    assert "Filter ignored: Kind: Select a valid choice." in body
    assert "Filter ignored: Waited longer than: Select a valid choice." in body


@pytest.mark.parametrize("cursor", ["garbage", "123_not-a-uuid", "99999999999999999999999_" + "0" * 32, "_"])
def test_a_malformed_cursor_is_a_bad_request(reviewer_client, cursor):
    assert reviewer_client.get(reverse("queue"), {"after": cursor}).status_code == 400


def test_keyset_pages_cover_the_queue_once_in_order_even_with_equal_timestamps():
    same_time = timezone.now() - timedelta(hours=2)
    approvals = [make_pending_review(name=f"item-{index:02}") for index in range(7)]
    Approval.objects.filter(id__in=[a.id for a in approvals[2:5]]).update(created_at=same_time)
    expected = list(Approval.objects.filter(status="pending").order_by("created_at", "id").values_list("id", flat=True))

    seen, after, first = [], None, True
    while True:
        page = pending_queue(filters=QueueFilters(), after=after, limit=2)
        assert (page.match_count is None) != first
        seen += [row.id for row in page.rows]
        if page.next_cursor is None:
            break
        after, first = page.next_cursor, False

    assert seen == expected


def test_cursor_round_trips_to_the_microsecond():
    at = timezone.now().replace(microsecond=123456)
    approval = make_pending_review()
    cursor = Cursor(at=at, id=approval.id)
    assert Cursor.decode(cursor.encode()) == cursor


def test_load_more_with_htmx_returns_only_the_next_rows(reviewer_client):
    for index in range(3):
        age(make_pending_review(name=f"row-{index}"), hours=10 - index)
    first = reviewer_client.get(reverse("queue"), {"limit": 2})
    cursor = pending_queue(filters=QueueFilters(), limit=2).next_cursor.encode()
    assert f"after={cursor}" in first.content.decode()

    more = reviewer_client.get(reverse("queue"), {"limit": 2, "after": cursor}, **HTMX)

    body = more.content.decode()
    assert more.status_code == 200
    assert "<html" not in body and "<table" not in body
    assert ">row-2<" in body and ">row-0<" not in body  # names as link text: row ids hold UUIDs
    assert 'id="load-more"' not in body  # the last page offers no more
    assert "HX-Request" in more["Vary"]


def test_load_more_without_javascript_is_a_link_to_the_next_page(reviewer_client):
    for index in range(3):
        age(make_pending_review(name=f"row-{index}"), hours=10 - index)
    cursor = pending_queue(filters=QueueFilters(), limit=2).next_cursor.encode()

    response = reviewer_client.get(reverse("queue"), {"limit": 2, "after": cursor})

    body = response.content.decode()
    assert "<html" in body and ">row-2<" in body and ">row-0<" not in body
    assert "back to the oldest" in body


def test_changing_filters_with_htmx_returns_the_results_block(reviewer_client):
    make_pending_review(name="alpha")
    make_pending_review(name="beta")

    response = reviewer_client.get(reverse("queue"), {"q": "alp"}, **HTMX)

    body = response.content.decode()
    assert body.lstrip().startswith('<section id="queue-results"')
    assert "alpha" in body and "beta" not in body
    assert "<strong>1</strong> pending match these filters" in body


def test_the_match_count_stops_at_the_cap(reviewer_client, monkeypatch):
    monkeypatch.setattr(review_queue, "COUNT_CAP", 3)
    for _ in range(5):
        make_pending_review()

    page = pending_queue(filters=QueueFilters(), limit=2)
    body = reviewer_client.get(reverse("queue")).content.decode()

    assert page.match_count == 4  # counted up to the cap + 1, never further
    assert "<strong>3+</strong> pending" in body


def test_an_empty_queue_says_so(reviewer_client):
    body = reviewer_client.get(reverse("queue")).content.decode()
    assert "Queue empty" in body
    assert "<strong>0</strong> pending" in body


def _queue_queries(client, limit: int) -> list[str]:
    forget_project_menu()  # the worst case: the project menu to read
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("queue"), {"limit": limit})
    assert response.status_code == 200
    assert response.content.decode().count("data-queue-row") == limit
    return [query["sql"] for query in queries.captured_queries]


def test_a_queue_page_costs_the_same_queries_for_25_and_100_rows(reviewer_client):
    project = make_project()
    for index in range(101):
        artifact = make_artifact(project=project, name=f"post-{index}", version=1)
        approval = make_pending_review(artifact=artifact)
        make_run(job=approval.artifact.output_jobs.get())

    small, large = _queue_queries(reviewer_client, 25), _queue_queries(reviewer_client, 100)

    assert len(small) == len(large) <= 6
    assert not any("OFFSET" in sql.upper() for sql in small + large)


def _plan_of_the_page_query(filters: QueueFilters) -> str:
    with CaptureQueriesContext(connection) as queries:
        pending_queue(filters=filters)
    (statement,) = [query["sql"] for query in queries.captured_queries]
    with connection.cursor() as cursor:
        # On a tiny table any plan is cheap: forbid the ones that ignore the
        # order, so the plan shows whether the partial index can serve it.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"set local {setting} = off")
        cursor.execute(f"explain {statement}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_pending_page_query_is_served_by_the_partial_index():
    make_pending_review()
    plan = _plan_of_the_page_query(QueueFilters())
    assert "approvals_pending_queue_idx" in plan


# --- The rows are never stale; the project menu at most a few seconds ------------------------------------------


def test_a_renamed_project_shows_its_new_name_in_the_rows_at_once_and_in_the_menu_soon(reviewer_client):
    project = make_project(name="Old name")
    make_pending_review(artifact=make_artifact(project=project, name="post"))
    assert "Old name" in reviewer_client.get(reverse("queue")).content.decode()  # now cached

    project.name = "New name"
    project.save(update_fields=["name"])

    body = reviewer_client.get(reverse("queue")).content.decode()
    assert "<td>New name</td>" in body  # the row: never stale
    assert '">Old name</option>' in body  # the menu: reused for a few seconds
    forget_project_menu()  # as when those seconds have passed
    body = reviewer_client.get(reverse("queue")).content.decode()
    assert "Old name" not in body
    assert '">New name</option>' in body


def test_the_chosen_project_is_selected_in_the_menu(reviewer_client):
    first, second = make_project(name="First"), make_project(name="Second")
    make_pending_review(artifact=make_artifact(project=first))

    body = reviewer_client.get(reverse("queue"), {"project": second.id}).content.decode()

    assert f'<option value="{first.id}">First</option>' in body
    assert f'<option value="{second.id}" selected>Second</option>' in body
    assert body.split('id="id_project"')[1].split("</select>")[0].count(" selected>") == 1


def test_a_run_recorded_later_updates_the_row_figures(reviewer_client):
    approval = make_pending_review(name="post", with_run=False)
    assert ">–</td>" in reviewer_client.get(reverse("queue")).content.decode()

    make_run(job=approval.artifact.output_jobs.get(), prompt_tokens=1200, completion_tokens=34)

    assert ">1,234</td>" in reviewer_client.get(reverse("queue")).content.decode()


def test_an_unknown_project_in_the_url_selects_nothing(reviewer_client):
    make_pending_review()
    body = reviewer_client.get(reverse("queue"), {"project": "00000000-0000-0000-0000-000000000000"}).content.decode()
    assert " selected>" not in body.split('id="id_project"')[1].split("</select>")[0]


# --- The filter form shows what was asked for ------------------------------------


def _select(body: str, name: str) -> str:
    return body.split(f'<select name="{name}" id="id_{name}">')[1].split("</select>")[0]


def test_the_filters_show_the_search_and_choices_asked_for(reviewer_client):
    make_pending_review(name="launch <b>")

    body = reviewer_client.get(reverse("queue"), {"q": "launch <b>", "kind": "text", "waited": "1h"}).content.decode()

    assert 'name="q" value="launch &lt;b&gt;"' in body
    assert '<option value="text" selected>Text</option>' in _select(body, "kind")
    assert '<option value="1h" selected>1 hour</option>' in _select(body, "waited")
    assert '<option value="" selected>Any media</option>' in _select(body, "media")
    assert [_select(body, name).count(" selected>") for name in ("kind", "media", "waited", "sla")] == [1, 1, 1, 1]


def test_a_filter_value_that_is_not_a_choice_selects_none(reviewer_client):
    body = reviewer_client.get(reverse("queue"), {"kind": "video"}).content.decode()

    assert " selected>" not in _select(body, "kind")


def test_a_search_for_none_does_not_fill_everyones_search_box(reviewer_client):
    # The search box once came from a cache keyed by str(value), where None and "None" were one key.
    make_pending_review(name="launch-post")
    reviewer_client.get(reverse("queue"), {"q": "None"})

    html = reviewer_client.get(reverse("queue")).content.decode()

    assert 'value="None"' not in html

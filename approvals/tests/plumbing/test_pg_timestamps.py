"""Timestamps PostgreSQL accepts and Python cannot hold (approvals/plumbing/pg_timestamps.py).

The pipeline may write -infinity, infinity, a BC moment or a year past 9999
into any timestamptz column. Every page that reads such a row answers 200
and shows the value as PostgreSQL stores it.
"""

import copy
import html
import pickle
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from approvals.models import Approval, Job, Run
from approvals.plumbing.pg_timestamps import StoredDate, StoredTimestamp
from approvals.selectors.keyset import Cursor
from approvals.tests.factories import make_pending_review, make_queue

# What the pipeline may write, as PostgreSQL prints it back (DateStyle ISO, zone UTC).
UNHOLDABLE = ("-infinity", "infinity", "0044-03-15 00:00:00+00 BC", "12000-01-01 00:00:00+00")
COLUMNS = (
    "approvals.created_at",
    "approvals.decided_at",
    "artifacts.created_at",
    "jobs.created_at",
    "jobs.started_at",
    "jobs.finished_at",
    "runs.created_at",
)
ANALYTICS = ("analytics-queue", "analytics-reviewers", "analytics-time-to-decision", "analytics-outcomes")


@dataclass
class Site:
    pending: Approval
    decided: Approval
    job: Job
    run: Run


def _make_site() -> Site:
    pending = make_pending_review(name="pending draft")
    decided = make_pending_review(name="decided draft")
    Approval.objects.filter(id=decided.id).update(status="approved", decided_by="ana", decided_at=timezone.now())
    job = Job.objects.get(output_artifact_id=pending.artifact_id)
    return Site(pending=pending, decided=decided, job=job, run=Run.objects.get(job=job))


def _write(column: str, value: str, site: Site) -> None:
    """The pipeline's UPDATE: straight SQL, as nothing in Django would write such a value."""
    table, name = column.split(".")
    row_id = {
        "approvals": site.decided.id if name == "decided_at" else site.pending.id,
        "artifacts": site.pending.artifact_id,
        "jobs": site.job.id,
        "runs": site.run.id,
    }[table]
    # An arrival time is also that of a decided item (time to decision, history).
    row_ids = [row_id, site.decided.id] if column == "approvals.created_at" else [row_id]
    with connection.cursor() as cursor:
        for one_id in row_ids:
            cursor.execute(f"update {table} set {name} = %s::timestamptz where id = %s", [value, one_id])  # noqa: S608


def _admin_pages(column: str, site: Site) -> list[str]:
    table = column.split(".")[0]
    model = {"approvals": "approval", "artifacts": "artifact", "jobs": "job", "runs": "run"}[table]
    row_id = {
        "approvals": site.decided.id if column.endswith("decided_at") else site.pending.id,
        "artifacts": site.pending.artifact_id,
        "jobs": site.job.id,
        "runs": site.run.id,
    }[table]
    pages = [reverse(f"admin:approvals_{name}_changelist") for name in ("approval", "artifact", "job", "run")]
    return [*pages, reverse(f"admin:approvals_{model}_change", args=[row_id])]


def _get(client, url: str) -> str:
    response = client.get(url, follow=True)  # "next item" redirects to the item, or to the queue
    assert response.status_code == 200, f"{url}: {response.status_code}"
    return response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("value", UNHOLDABLE)
@pytest.mark.parametrize("column", COLUMNS)
def test_every_page_reading_the_row_answers(admin_client, column, value):
    site = _make_site()
    _write(column, value, site)

    pages = [
        reverse("queue"),
        reverse("history"),
        reverse("approval-detail", args=[site.pending.id]),
        reverse("approval-detail", args=[site.decided.id]),
        *(reverse(name) for name in ANALYTICS),
        reverse("approval-live", args=[site.pending.id]),
        reverse("approval-live", args=[site.decided.id]),
        f"{reverse('approval-next')}?after={site.pending.id}",
        reverse("admin:approvals_project_changelist"),
        reverse("admin:approvals_run_costs"),
        *_admin_pages(column, site),
    ]
    for url in pages:
        _get(admin_client, url)
    live = admin_client.post(reverse("queue-live"), {"live": [str(site.pending.artifact_id)]})
    assert live.status_code in (200, 204)


# Where each column is displayed as a date: (page, column) pairs that must print the stored text.
SHOWN_ON = {
    "approvals.created_at": ("review", "analytics-queue", "admin-change", "admin-approvals"),
    "approvals.decided_at": ("review-decided", "history", "admin-change", "admin-approvals"),
    "artifacts.created_at": ("review", "admin-change", "admin-artifacts"),
    "jobs.created_at": ("admin-change", "admin-jobs"),
    "jobs.started_at": ("admin-change",),
    "jobs.finished_at": ("admin-change", "admin-jobs"),
    "runs.created_at": ("admin-change", "admin-runs"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("value", UNHOLDABLE)
@pytest.mark.parametrize("column", COLUMNS)
def test_the_stored_text_is_shown_where_the_value_is(admin_client, column, value):
    site = _make_site()
    _write(column, value, site)
    change_page = _admin_pages(column, site)[-1]
    urls = {
        "review": reverse("approval-detail", args=[site.pending.id]),
        "review-decided": reverse("approval-detail", args=[site.decided.id]),
        "history": reverse("history"),
        "admin-change": change_page,
        **{f"admin-{name}s": reverse(f"admin:approvals_{name}_changelist") for name in ("approval", "artifact", "job")},
        "admin-runs": reverse("admin:approvals_run_changelist"),
        "analytics-queue": reverse("analytics-queue"),
    }
    for page in SHOWN_ON[column]:
        assert value in _get(admin_client, urls[page]), f"{value} not on {page}"


@pytest.mark.django_db
@pytest.mark.parametrize("value", UNHOLDABLE)
def test_the_queue_says_the_wait_is_unknown(admin_client, value):
    site = _make_site()
    _write("approvals.created_at", value, site)

    page = _get(admin_client, reverse("queue"))

    assert f"unknown (created {value})" in page


@pytest.mark.django_db
@pytest.mark.parametrize("value", UNHOLDABLE)
def test_load_more_continues_past_the_row(admin_client, value):
    items = make_queue(count=4)  # item-0 oldest
    with connection.cursor() as cursor:
        cursor.execute("update approvals set created_at = %s::timestamptz where id = %s", [value, items[1].id])
    shown = _queue_names(admin_client, reverse("queue") + "?limit=1")

    in_the_past = value.startswith("-") or value.endswith(" BC")
    assert shown == (
        ["item-1", "item-0", "item-2", "item-3"] if in_the_past else ["item-0", "item-2", "item-3", "item-1"]
    )


def _queue_names(client, url: str) -> list[str]:
    """The item names of the queue, page after page by its Load more link."""
    shown = []
    while url and len(shown) < 20:  # a cursor that fails to advance repeats a page forever
        page = _get(client, url)
        shown += re.findall(r'id="queue-link-[^"]+" href="[^"]+">(item-\d)</a>', page)
        more = re.search(r'<tr id="load-more".*?href="([^"]+)"', page, re.DOTALL)
        url = html.unescape(more[1]) if more else None
    return shown


@pytest.mark.django_db
def test_load_more_pages_through_rows_that_are_all_out_of_range(admin_client):
    # Two BC items both clamp to datetime.min: a cursor of the clamped value would skip the second.
    dated = [
        "infinity",
        "0010-06-01 00:00:00+00 BC",
        "-infinity",
        "12000-01-01 00:00:00+00",
        "0044-03-15 00:00:00+00 BC",
    ]
    items = make_queue(count=len(dated))
    with connection.cursor() as cursor:
        for item, value in zip(items, dated, strict=True):
            cursor.execute("update approvals set created_at = %s::timestamptz where id = %s", [value, item.id])

    assert _queue_names(admin_client, reverse("queue") + "?limit=1") == [
        "item-2",
        "item-4",
        "item-1",
        "item-3",
        "item-0",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("value", UNHOLDABLE)
def test_a_cursor_at_the_row_round_trips_its_stored_text(value):
    site = _make_site()
    _write("approvals.created_at", value, site)
    loaded = Approval.objects.get(id=site.pending.id).created_at

    decoded = Cursor.decode(Cursor(at=loaded, id=site.pending.id).encode())

    assert isinstance(decoded.at, StoredTimestamp)
    assert decoded.at.stored == value
    # _write dates the decided item's arrival the same way.
    matched = set(Approval.objects.filter(created_at=decoded.at).values_list("id", flat=True))
    assert matched == {site.pending.id, site.decided.id}


@pytest.mark.django_db
@pytest.mark.parametrize("value", UNHOLDABLE)
def test_values_load_in_order_with_the_text_postgres_sent(value):
    site = _make_site()
    _write("approvals.created_at", value, site)

    loaded = Approval.objects.get(id=site.pending.id).created_at

    assert isinstance(loaded, StoredTimestamp)
    assert loaded.stored == value
    # The fragment cache pickles what it keeps (our own bytes, just written).
    assert pickle.loads(pickle.dumps(loaded)).stored == copy.deepcopy(loaded).stored == value  # noqa: S301
    now = datetime.now(UTC)
    assert (loaded > now) == (value in ("infinity", "12000-01-01 00:00:00+00"))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sql", "stored"),
    [
        ("'-infinity'::date", "-infinity"),
        ("'infinity'::date", "infinity"),
        ("'0044-03-15 BC'::date", "0044-03-15 BC"),
        ("'12000-01-01'::date", "12000-01-01"),
        ("'0044-03-15 12:30:00 BC'::timestamp", "0044-03-15 12:30:00 BC"),
        ("'12000-01-01 08:00'::timestamp", "12000-01-01 08:00:00"),
    ],
)
@pytest.mark.parametrize("binary", [False, True])
def test_dates_and_plain_timestamps_load_too(sql, stored, binary):
    with connection.cursor() as cursor:
        raw = cursor.connection.cursor(binary=binary)
        raw.execute(f"select {sql}")  # noqa: S608 (fixed texts above)
        (loaded,) = raw.fetchone()

    assert isinstance(loaded, StoredDate if "::date" in sql else StoredTimestamp)
    assert loaded.stored == stored


@pytest.mark.django_db
@pytest.mark.parametrize("binary", [False, True])
def test_a_holdable_value_loads_as_before(binary):
    with connection.cursor() as cursor:
        raw = cursor.connection.cursor(binary=binary)
        raw.execute("select '2026-01-02 03:04:05.5+00'::timestamptz")
        (loaded,) = raw.fetchone()

    assert type(loaded) is datetime
    assert loaded == datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=UTC)
    assert loaded - timedelta(0) == loaded

"""History: decided approvals newest first, filters, keyset pages, a fixed number of queries."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.filter_menus import forget_project_menu
from approvals.models import Approval, ApprovalStatus
from approvals.selectors.filters import HistoryFilters
from approvals.selectors.history import decided_history
from approvals.tests.factories import make_artifact, make_pending_review, make_project

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def decision(name: str, *, status="approved", by="sam", at: datetime, notes="", project=None) -> Approval:
    approval = make_pending_review(artifact=make_artifact(name=name, project=project or make_project()))
    Approval.objects.filter(id=approval.id).update(status=status, decided_by=by, decided_at=at, notes=notes or None)
    return approval


def names(page) -> list[str]:
    return [row["name"] for row in page.rows]


def day(d: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(d.year, d.month, d.day, hour))


def test_history_lists_decisions_newest_first_with_who_when_and_notes(reviewer_client):
    decision("older", at=timezone.now() - timedelta(days=2), notes="Fine.")
    decision("newer", status="rejected", by="alex", at=timezone.now() - timedelta(hours=1), notes="Too <long>.")
    make_pending_review(name="still-pending")

    response = reviewer_client.get(reverse("history"))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("newer") < body.index("older")
    assert "still-pending" not in body
    assert "Too &lt;long&gt;." in body
    assert "alex" in body and "Rejected" in body


def test_history_filters_by_reviewer_decision_project_and_dates():
    launch = make_project(name="Launch")
    decision("a", by="sam", at=day(date(2025, 3, 1)), project=launch)
    decision("b", by="alex", status="rejected", at=day(date(2025, 3, 2), hour=23))
    decision("c", by="sam", status="rejected", at=day(date(2025, 3, 3), hour=0), project=launch)

    def pick(**filters):
        return names(decided_history(filters=HistoryFilters(**filters)))

    assert pick(reviewer="sam") == ["c", "a"]
    assert pick(decision=ApprovalStatus.REJECTED) == ["c", "b"]
    assert pick(project_id=launch.id) == ["c", "a"]
    assert pick(decided_from=date(2025, 3, 2)) == ["c", "b"]
    assert pick(decided_to=date(2025, 3, 2)) == ["b", "a"]  # the whole last day counts
    assert pick(decided_from=date(2025, 3, 2), decided_to=date(2025, 3, 2)) == ["b"]


def test_history_filters_come_from_the_url_and_bad_values_are_ignored(reviewer_client):
    decision("kept", by="sam", at=timezone.now())
    decision("dropped", by="alex", at=timezone.now())

    response = reviewer_client.get(reverse("history"), {"reviewer": "sam", "decided_from": "yesterday"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "kept" in body and "dropped" not in body
    assert "Filter ignored: From: Enter a valid date." in body


def test_history_pages_by_keyset_without_gaps_or_repeats():
    same = timezone.now() - timedelta(hours=1)
    for index in range(5):
        decision(f"d{index}", at=same if index in (1, 2, 3) else timezone.now() - timedelta(hours=index))
    expected = list(
        Approval.objects.exclude(status="pending").order_by("-decided_at", "-id").values_list("id", flat=True)
    )

    seen, after = [], None
    while True:
        page = decided_history(filters=HistoryFilters(), after=after, limit=2)
        seen += [row["id"] for row in page.rows]
        if page.next_cursor is None:
            break
        after = page.next_cursor

    assert seen == expected


def test_load_more_history_with_htmx_returns_rows_only(reviewer_client):
    for index, name in enumerate(["newest-post", "middle-post", "oldest-post"]):
        decision(name, at=timezone.now() - timedelta(hours=index))
    cursor = decided_history(filters=HistoryFilters(), limit=1).next_cursor  # after the newest

    response = reviewer_client.get(reverse("history"), {"after": cursor.encode()}, **HTMX)

    body = response.content.decode()
    assert "<html" not in body
    assert "middle-post" in body and "oldest-post" in body and "newest-post" not in body


def test_a_malformed_history_cursor_is_a_bad_request(reviewer_client):
    assert reviewer_client.get(reverse("history"), {"after": "1_2"}).status_code == 400


def test_history_page_query_count_does_not_grow_with_rows(reviewer_client):
    def count() -> int:
        forget_project_menu()  # the worst case: the project menu to read
        with CaptureQueriesContext(connection) as queries:
            assert reviewer_client.get(reverse("history")).status_code == 200
        return len(queries)

    decision("one", at=timezone.now())
    few = count()
    for index in range(30):
        decision(f"many-{index}", at=timezone.now() - timedelta(minutes=index))
    assert count() == few <= 6


def test_the_history_query_is_served_by_the_decided_index():
    decision("x", at=timezone.now())
    with CaptureQueriesContext(connection) as sent:
        decided_history(filters=HistoryFilters())
    (query,) = sent.captured_queries  # the statement decided_history() sent, its parameters in place
    with connection.cursor() as cursor:
        # On a tiny table any plan is cheap: forbid the ones that ignore the order.
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"set local {setting} = off")
        cursor.execute(f"explain {query['sql']}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "approvals_decided_history_idx" in plan

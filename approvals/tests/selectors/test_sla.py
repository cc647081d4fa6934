"""Review targets: items waiting longer than their project's target are flagged and filtered in the queue."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import Approval, ReviewTarget
from approvals.tests.factories import make_pending_review, make_project

pytestmark = pytest.mark.django_db


def _pending(project, *, name: str, hours_ago: float) -> Approval:
    approval = make_pending_review(project=project, name=name)
    Approval.objects.filter(pk=approval.pk).update(created_at=timezone.now() - timedelta(hours=hours_ago))
    return approval


@pytest.fixture
def targeted_queue():
    targeted = make_project(name="Targeted")
    ReviewTarget.objects.create(project=targeted, target_hours=4)
    _pending(targeted, name="late-post", hours_ago=5)
    _pending(targeted, name="fresh-post", hours_ago=1)
    _pending(make_project(name="Untargeted"), name="old-untargeted-post", hours_ago=100)


def test_queue_marks_items_over_their_projects_target_as_overdue(reviewer_client, targeted_queue):
    rows = {row.name: row.overdue for row in reviewer_client.get(reverse("queue")).context["page"].rows}
    page = reviewer_client.get(reverse("queue")).content.decode()

    assert rows == {"late-post": True, "fresh-post": False, "old-untargeted-post": False}
    assert page.count(">Overdue</span>") == 1


def test_overdue_filter_lists_only_items_over_their_target(reviewer_client, targeted_queue):
    response = reviewer_client.get(reverse("queue"), {"sla": "overdue"})

    assert [row.name for row in response.context["page"].rows] == ["late-post"]
    assert response.context["page"].match_count == 1


def test_an_unknown_sla_filter_value_is_ignored_and_said_so(reviewer_client, targeted_queue):
    response = reviewer_client.get(reverse("queue"), {"sla": "late"})

    assert len(response.context["page"].rows) == 3
    assert "Filter ignored: Review target" in response.content.decode()


def test_review_target_outside_1_to_8760_hours_is_refused_in_the_admin(admin_client):
    project = make_project(name="Bounded")
    url = reverse("admin:approvals_reviewtarget_add")

    response = admin_client.post(url, {"project": project.pk, "target_hours": 0})

    assert response.status_code == 200
    assert "greater than or equal to 1" in response.content.decode()
    assert not ReviewTarget.objects.exists()
    assert admin_client.post(url, {"project": project.pk, "target_hours": 24}).status_code == 302
    assert ReviewTarget.objects.get().target_hours == 24

"""The queue's cached fragments never mistake one filter value for another (no value is not the text "None")."""

import pytest
from django.urls import reverse

from approvals.tests.factories import make_pending_review

pytestmark = pytest.mark.django_db


def test_a_search_for_none_does_not_fill_everyones_search_box(reviewer_client):
    make_pending_review(name="launch-post")
    reviewer_client.get(reverse("queue"), {"q": "None"})

    html = reviewer_client.get(reverse("queue")).content.decode()

    assert 'value="None"' not in html

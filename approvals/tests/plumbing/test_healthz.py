"""/healthz as load balancers call it: GET or HEAD, no login."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_head_healthz_answers_200_without_a_body(client):
    response = client.head(reverse("healthz"))

    assert response.status_code == 200
    assert response.content == b""


def test_post_healthz_is_still_refused(client):
    assert client.post(reverse("healthz")).status_code == 405

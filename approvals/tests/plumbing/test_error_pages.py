"""Error pages: a database outage is a 503 that says so (never a traceback), and the app recovers by itself.

The outage here is real as far as the app can tell: its connection settings
point at a port where no PostgreSQL listens, so psycopg's connect fails the
way it does when the server is down. test_production_server.py's
test_database_restart_during_traffic_is_a_503_then_recovers_without_a_restart
stops and starts a real server under gunicorn.
"""

import json
import uuid
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from approvals.tests.factories import make_pending_review, make_reviewer

pytestmark = pytest.mark.usefixtures("transactional_pipeline_db")

UNAVAILABLE = "The database is unavailable"


@contextmanager
def database_down():
    connection.close()
    saved = connection.settings_dict["PORT"]
    connection.settings_dict["PORT"] = "1"  # nothing listens there, on a socket or on TCP
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved


@pytest.fixture
def reviewer_browser():
    client = Client(raise_request_exception=False)
    client.force_login(make_reviewer("reviewer"))
    return client


def assert_unavailable_page(response) -> None:
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert UNAVAILABLE in body
    assert "Traceback" not in body and "OperationalError" not in body and "psycopg" not in body
    assert response["X-Request-ID"] in body  # a reference to quote when reporting it


def test_reviewer_pages_answer_503_during_a_database_outage(reviewer_browser):
    approval = make_pending_review(name="launch-post")
    pages = [
        ("get", reverse("queue")),
        ("get", reverse("approval-detail", args=[approval.id])),
        ("get", reverse("history")),
        ("post", reverse("approval-decide", args=[approval.id])),
        ("get", reverse("artifact-file", args=[approval.artifact_id])),
        ("get", "/no/such/page/"),  # the 404 page asks for the user, which needs the database too
    ]
    with database_down():
        for method, url in pages:
            assert_unavailable_page(getattr(reviewer_browser, method)(url))


def test_health_check_answers_503_json_during_an_outage():
    client = Client(raise_request_exception=False)
    with database_down():
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert json.loads(response.content) == {"database": "unavailable"}


def test_logging_in_during_an_outage_is_a_503_not_a_wrong_password():
    client = Client(raise_request_exception=False)
    make_reviewer("reviewer")
    with database_down():
        page = client.get(reverse("login"))  # the form itself needs no database
        response = client.post(reverse("login"), {"username": "reviewer", "password": "review-pass-123"})
    assert page.status_code == 200
    assert_unavailable_page(response)


def test_pages_recover_when_the_database_is_back_with_no_restart(reviewer_browser):
    approval = make_pending_review(name="launch-post")
    with database_down():
        assert reviewer_browser.get(reverse("queue")).status_code == 503

    assert reviewer_browser.get(reverse("healthz")).status_code == 200
    queue = reviewer_browser.get(reverse("queue"))
    assert queue.status_code == 200
    assert "launch-post" in queue.content.decode()
    decided = reviewer_browser.post(
        reverse("approval-decide", args=[approval.id]), {"decision": "approved", "notes": "after the outage"}
    )
    assert decided.status_code == 303
    approval.refresh_from_db()
    assert approval.status == "approved"


def test_an_unknown_review_is_a_styled_404(reviewer_browser):
    response = reviewer_browser.get(reverse("approval-detail", args=[uuid.uuid4()]))
    assert response.status_code == 404
    assert "Not found" in response.content.decode()

"""Request ids and the one-line log format: every line says which request and which user."""

import io
import json
import logging
import re

import pytest
from axes.models import AccessAttempt
from django.http import HttpResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from approvals.plumbing.request_context import LineFormatter, RequestContextFilter, RequestContextMiddleware
from approvals.tests.factories import make_pending_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines():
    """The app's log lines as the production handler writes them (JSON), read back parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(LineFormatter(style_name="json"))
    root = logging.getLogger()
    root.addHandler(handler)
    loggers = [logging.getLogger(name) for name in ("django", "approvals")]
    for logger in loggers:
        logger.addHandler(handler)
    previous = {logger: logger.propagate for logger in loggers}
    for logger in loggers:
        logger.propagate = False

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines()]

    yield read
    root.removeHandler(handler)
    for logger in loggers:
        logger.removeHandler(handler)
        logger.propagate = previous[logger]


def test_a_request_id_is_made_and_echoed(client):
    response = client.get(reverse("healthz"))
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])
    assert client.get(reverse("healthz"))["X-Request-ID"] != response["X-Request-ID"]


def test_the_callers_request_id_is_kept(client):
    response = client.get(reverse("healthz"), HTTP_X_REQUEST_ID="lb-7f3a:42")
    assert response["X-Request-ID"] == "lb-7f3a:42"


@pytest.mark.parametrize("forged", ['x" user=admin', "a\nlevel=ERROR", "x" * 129, "<script>", ""])
def test_a_request_id_that_is_not_an_id_is_replaced(client, forged):
    response = client.get(reverse("healthz"), HTTP_X_REQUEST_ID=forged)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_redirects_carry_the_request_id_too(client):
    response = client.get(reverse("queue"))
    assert response.status_code == 302
    assert response["X-Request-ID"]


def test_each_request_logs_one_json_line_with_its_id_and_user(reviewer_client, log_lines):
    approval = make_pending_review(name="launch-post")

    response = reviewer_client.get(reverse("approval-detail", args=[approval.id]), HTTP_X_REQUEST_ID="req-123")

    lines = [line for line in log_lines() if line["logger"] == "approvals.requests"]
    assert len(lines) == 1
    line = lines[0]
    assert response.status_code == 200
    assert line["request_id"] == "req-123"
    assert line["user"] == "reviewer"
    assert (line["method"], line["path"], line["status"]) == ("GET", f"/approvals/{approval.id}/", 200)
    assert line["level"] == "INFO" and isinstance(line["duration_ms"], float)


def test_a_refused_visitor_is_logged_as_anonymous_and_djangos_warning_keeps_the_id(client, log_lines):
    client.get("/no/such/page/", HTTP_X_REQUEST_ID="req-404")

    by_logger = {line["logger"]: line for line in log_lines()}
    assert by_logger["approvals.requests"]["status"] == 404
    assert by_logger["django.request"]["request_id"] == "req-404"  # logged after the middleware returned
    assert by_logger["django.request"]["message"] == "Not Found: /no/such/page/"


def test_logging_never_loads_the_user_itself(rf, log_lines):
    """A line logged before authentication ran says "-", rather than fetching the user,
    which needs the database (down, perhaps: that may be what is being logged)."""

    def user_lookup():
        raise AssertionError("the log filter loaded the user")

    def view(request):
        logging.getLogger("approvals.test").warning("before anyone looked at the user")
        return HttpResponse("ok")

    request = rf.get("/anything/")
    request.user = SimpleLazyObject(user_lookup)
    RequestContextMiddleware(view)(request)

    lines = log_lines()
    assert [line["user"] for line in lines] == ["-", "-"]
    assert lines[0]["request_id"] == lines[1]["request_id"] == request.request_id


def test_lines_stay_single_even_with_newlines_and_tracebacks():
    formatter = LineFormatter(style_name="json")
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "bad\ninput %s", ("here",), None)
        import sys

        record.exc_info = sys.exc_info()
    text = formatter.format(record)

    assert "\n" not in text
    parsed = json.loads(text)
    assert parsed["message"] == "bad\ninput here"
    assert "ValueError: boom" in parsed["exception"]


def test_the_text_format_quotes_values_with_spaces():
    record = logging.LogRecord("approvals", logging.INFO, __file__, 1, 'said "hi" to me', (), None)
    RequestContextFilter().filter(record)
    text = LineFormatter(style_name="text").format(record)
    assert 'message="said \\"hi\\" to me"' in text
    assert "request_id=- user=-" in text


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("203.0.113.9:51234", "203.0.113.9"),
        ("[2001:db8::7]:443", "2001:db8::7"),
        ("2001:db8::7", "2001:db8::7"),
        ("garbage", "10.0.0.2"),
        ("203.0.113.9:port", "10.0.0.2"),
        ("999.1.1.1", "10.0.0.2"),
        ("[fe80::1%eth0]:80", "10.0.0.2"),
        ("203.0.113.9:", "10.0.0.2"),
    ],
)
def test_a_forwarded_for_with_a_port_or_garbage_never_fails_a_login(client, settings, forwarded, expected):
    settings.PROXY_COUNT = 1
    response = client.post(
        reverse("login"),
        {"username": "nobody", "password": "wrong"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=forwarded,
    )

    assert response.status_code == 200
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == [expected]

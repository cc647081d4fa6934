"""Pins on the private internals of Django and moto that this project still relies on.

Each has no public equivalent; if an upgrade moves one, the test here fails
with a message naming the code that has to change, instead of that code
misbehaving quietly (request logs without users, a stopped S3 server still
accepting connections).
"""

import socket
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.middleware import get_user
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from approvals.plumbing.request_context import _username
from approvals.tests.factories import make_reviewer


@pytest.mark.django_db
def test_django_caches_the_request_user_where_request_logging_looks_for_it(client):
    reviewer = make_reviewer("pinned")
    client.force_login(reviewer)
    request = RequestFactory().get("/")
    request.session = SessionStore(session_key=client.session.session_key)

    get_user(request)  # what AuthenticationMiddleware's lazy request.user calls

    assert "_cached_user" in request.__dict__, (
        "django.contrib.auth.middleware.get_user no longer caches the user as request._cached_user: "
        "approvals/plumbing/request_context.py _username() must find the loaded user another way."
    )
    assert _username(request) == "pinned"


def test_a_stopped_moto_server_refuses_connections(private_moto_server):
    url = urlsplit(private_moto_server.endpoint_url)

    private_moto_server.stop()  # reaches moto's private ThreadedMotoServer._server

    with pytest.raises(ConnectionRefusedError), socket.create_connection((url.hostname, url.port), timeout=2):
        pass

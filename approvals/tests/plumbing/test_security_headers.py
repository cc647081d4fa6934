"""Every page carries the headers that keep injected content from running or being framed."""

import re

import pytest
from django.urls import reverse

from approvals.tests.factories import make_pending_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(reviewer_client):
    approval = make_pending_review(name="launch-post")
    urls = [reverse("queue"), reverse("approval-detail", args=[approval.id]), reverse("history"), reverse("login")]
    return [(url, reviewer_client.get(url)) for url in urls]


def test_pages_forbid_inline_script_foreign_sources_and_framing(pages):
    for url, response in pages:
        policy = {d.split()[0]: d.split()[1:] for d in response["Content-Security-Policy"].split("; ")}
        assert policy["script-src"] == ["'self'"], url  # no 'unsafe-inline', no 'unsafe-eval', no CDN
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"], url
        assert policy["frame-ancestors"] == ["'self'"] and response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url


def test_pages_have_no_inline_script_for_the_policy_to_block(pages):
    # The CSP above would block an inline script; none may be needed for the page to work.
    for url, response in pages:
        html = response.content.decode()
        scripts = re.findall(r"<script\b([^>]*)>", html)
        assert scripts, url
        assert all("src=" in attributes for attributes in scripts), (url, scripts)
        assert not re.search(r"\son[a-z]+\s*=", html), url  # no inline event handlers either

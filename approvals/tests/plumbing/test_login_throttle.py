"""Failed logins are throttled per username from one address and per address, never revealing if an account exists."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from approvals.tests.factories import make_reviewer

pytestmark = pytest.mark.django_db

PASSWORD = "review-pass-123"
RULE = "After 5 failed attempts from your address, logging in from it is paused for 15 minutes."
LOCKED = "Too many failed log-ins from this address. Logging in is paused for 15 minutes."


@pytest.fixture(autouse=True)
def throttle_terms(settings):
    # The defaults a deployment gets, pinned here so the wording above holds.
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


@pytest.fixture
def alice(db):
    return make_reviewer("alice", password=PASSWORD)


def log_in(client, username: str, password: str, *, address: str = "198.51.100.7", **headers):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers)


def fail(client, username: str, times: int, *, address: str = "198.51.100.7", **headers) -> None:
    for _ in range(times):
        response = log_in(client, username, "wrong-password", address=address, **headers)
        assert response.status_code in (200, 429)


def is_logged_in(client) -> bool:
    return client.get(reverse("queue")).status_code == 200


def test_the_login_page_states_the_rule_before_anyone_fails(client):
    body = client.get(reverse("login")).content.decode()
    assert RULE in body


def test_an_account_is_locked_after_five_failures_even_with_the_right_password(client, alice):
    fail(client, "alice", 5)

    response = log_in(client, "alice", PASSWORD)

    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not is_logged_in(client)


def test_four_failures_still_let_the_owner_in(client, alice):
    fail(client, "alice", 4)

    assert log_in(client, "alice", PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_the_owner_logs_in_from_another_address_while_an_attacker_hammers_their_name(client, alice):
    # The attacker's failures lock alice's name from the attacker's address only.
    fail(client, "alice", 12, address="198.51.100.7")
    assert log_in(client, "alice", PASSWORD, address="198.51.100.7").status_code == 429

    response = log_in(client, "alice", PASSWORD, address="203.0.113.99")

    assert response.status_code == 302
    assert is_logged_in(client)


def test_failures_during_a_lockout_do_not_restart_the_cool_off(client, alice):
    fail(client, "alice", 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    # One more try a minute before the lock ends must not start it over.
    fail(client, "alice", 1)
    # Two minutes pass: the lock set fourteen minutes ago has run out.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=2))

    assert log_in(client, "alice", PASSWORD).status_code == 302


def test_an_address_is_locked_after_five_failures_across_usernames(client, alice):
    for name in ("bob", "carol", "dave", "erin", "frank"):
        fail(client, name, 1, address="198.51.100.7")

    locked = log_in(client, "alice", PASSWORD, address="198.51.100.7")
    assert locked.status_code == 429
    assert not is_logged_in(client)

    # The same account from another address is not locked: only that address is.
    assert log_in(client, "alice", PASSWORD, address="203.0.113.99").status_code == 302


def _without_tokens(html: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r'value="(alice|nobody-here)"', 'value="NAME"', html)


def test_failures_read_the_same_whether_or_not_the_account_exists(client, alice):
    existing = [log_in(client, "alice", "wrong", address="198.51.100.1") for _ in range(6)]
    missing = [log_in(client, "nobody-here", "wrong", address="198.51.100.2") for _ in range(6)]

    assert [r.status_code for r in existing] == [200] * 4 + [429] * 2  # the fifth failure locks
    assert [r.status_code for r in missing] == [200] * 4 + [429] * 2
    for one, other in zip(existing, missing, strict=True):
        assert _without_tokens(one.content.decode()) == _without_tokens(other.content.decode())


def test_the_lock_lifts_after_the_cool_off(client, alice):
    fail(client, "alice", 5)
    assert log_in(client, "alice", PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert log_in(client, "alice", PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_the_admin_login_is_throttled_too(client, alice):
    alice.is_staff = True
    alice.save()
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "alice", "password": "wrong"}, REMOTE_ADDR="198.51.100.7")

    response = client.post(
        reverse("admin:login"), {"username": "alice", "password": PASSWORD}, REMOTE_ADDR="198.51.100.7"
    )

    assert response.status_code == 429
    assert client.get(reverse("admin:index")).status_code == 302  # still sent to log in


def test_behind_a_proxy_a_forged_forwarded_for_does_not_buy_fresh_tries(client, settings, alice):
    settings.PROXY_COUNT = 1
    for number in range(5):
        # The client writes whatever it likes on the left; the proxy appends the real address.
        forwarded = f"10.9.8.{number}, 198.51.100.7"
        log_in(client, f"user{number}", "wrong", address="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    response = log_in(client, "alice", PASSWORD, address="10.0.0.2", HTTP_X_FORWARDED_FOR="10.9.8.200, 198.51.100.7")

    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.7"}

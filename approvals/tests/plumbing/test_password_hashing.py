"""Passwords are hashed with Argon2; a hash made by an older hasher is upgraded when its user logs in."""

import importlib

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_hashers(settings):
    """The hashers flowsite/settings.py configures (the suite runs with a fast one, set in conftest)."""
    settings.PASSWORD_HASHERS = importlib.import_module("flowsite.settings").PASSWORD_HASHERS


def test_a_pbkdf2_hash_is_upgraded_to_argon2_on_login(client, production_hashers):
    old_hash = make_password("an-old-password-9", hasher="pbkdf2_sha256")
    user = User.objects.create(username="old-timer", password=old_hash)
    assert user.password.startswith("pbkdf2_sha256$")

    response = client.post(reverse("login"), {"username": "old-timer", "password": "an-old-password-9"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$")
    assert user.check_password("an-old-password-9")


def test_new_passwords_are_hashed_with_argon2(production_hashers):
    assert make_password("a-new-password-9").startswith("argon2$")

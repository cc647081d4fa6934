"""Production settings (DEBUG off), checked in fresh processes the way a deploy starts them."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


# Set by this test run (the browser tests' Playwright needs the async-unsafe switch) or by a
# developer's shell; a deployment has none of them.
TEST_ONLY_VARIABLES = {"DEBUG", "BEHIND_PROXY", "HSTS_PRELOAD", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def production_env(**overrides: str) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in TEST_ONLY_VARIABLES}
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="review.example.com",
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(overrides)
    return {key: value for key, value in env.items() if value is not None}


def manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def settings_in(env: dict, *names: str) -> dict:
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{name: getattr(settings, name, None) for name in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "flowsite.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_reports_nothing_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_would_catch_a_weak_secret_key():
    # The same check fails when a setting is wrong: the test above can fail.
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env(SECRET_KEY="short"))

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_production_start_up_names_the_missing_variable(missing):
    env = production_env()
    del env[missing]

    result = manage("check", env=env)

    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr


def test_production_cookies_are_secure_and_https_is_enforced():
    values = settings_in(
        production_env(),
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_HTTPONLY",
    )

    assert values == {
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": None,  # X-Forwarded-Proto is trusted only behind a proxy
        "SESSION_COOKIE_HTTPONLY": True,
    }


def test_behind_a_proxy_the_forwarded_scheme_and_origins_are_taken_from_the_environment():
    env = production_env(
        BEHIND_PROXY="1",
        PROXY_COUNT="2",
        CSRF_TRUSTED_ORIGINS="https://review.example.com, https://ops.example.com",
        HSTS_SECONDS="600",
        HSTS_PRELOAD="0",
    )

    values = settings_in(
        env,
        "SECURE_PROXY_SSL_HEADER",
        "PROXY_COUNT",
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_PRELOAD",
    )

    assert values == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "PROXY_COUNT": 2,
        "CSRF_TRUSTED_ORIGINS": ["https://review.example.com", "https://ops.example.com"],
        "SECURE_HSTS_SECONDS": 600,
        "SECURE_HSTS_PRELOAD": False,
    }


@pytest.mark.parametrize(("port", "disabled"), [("6543", True), ("5432", False)])
def test_server_side_cursors_and_prepared_statements_are_off_behind_a_transaction_pooler(port, disabled):
    url = f"postgresql://postgres.ref:secret@aws-0-eu-central-1.pooler.supabase.com:{port}/postgres"
    values = settings_in(production_env(DATABASE_URL=url), "DATABASES")
    database = values["DATABASES"]["default"]

    assert database["PORT"] == port
    assert database["DISABLE_SERVER_SIDE_CURSORS"] is disabled
    assert database["CONN_HEALTH_CHECKS"] is True
    assert ("prepare_threshold" in database["OPTIONS"]) is not disabled
    assert database["OPTIONS"].get("server_side_binding", False) is not disabled


def test_collectstatic_writes_hashed_compressed_files_for_whitenoise(tmp_path):
    result = manage("collectstatic", "--noinput", env=production_env(STATIC_ROOT=str(tmp_path)))
    assert result.returncode == 0, result.stderr

    manifest = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]
    hashed = manifest["approvals/app.css"]
    assert hashed != "approvals/app.css" and hashed.startswith("approvals/app.") and hashed.endswith(".css")
    assert (tmp_path / hashed).read_bytes() == (ROOT / "approvals/static/approvals/app.css").read_bytes()
    assert (tmp_path / f"{hashed}.gz").exists()  # whitenoise serves it pre-compressed
    assert "admin/css/base.css" in manifest


def test_a_typo_in_a_yes_no_setting_stops_start_up_naming_the_variable():
    result = manage("check", env=production_env(SECURE_SSL_REDIRECT="ture"))

    assert result.returncode != 0
    error = result.stderr.strip().splitlines()[-1]
    assert "SECURE_SSL_REDIRECT" in error and "boolean" in error


# Every number settings.py reads from the environment: what else must be set for it to be read, its
# lowest and highest allowed values, and values just outside them (0 and negatives included wherever
# 0 is not allowed). The bounds and their reasons are in settings.py.
S3_ENV = {
    "STORAGE_BACKEND": "s3",
    "S3_ENDPOINT_URL": "https://abc.supabase.co/storage/v1/s3",
    "S3_REGION": "eu-central-1",
    "S3_ACCESS_KEY_ID": "key",
    "S3_SECRET_ACCESS_KEY": "secret",
}
NUMBER_SETTINGS = {
    "HSTS_SECONDS": ({}, "0", "63072000", ["-1", "63072001"]),
    "PROXY_COUNT": ({"BEHIND_PROXY": "1"}, "1", "10", ["0", "-1", "11"]),
    "DATABASE_CONNECT_TIMEOUT": ({}, "2", "60", ["0", "-1", "1", "61"]),
    "CONN_MAX_AGE": ({}, "0", "3600", ["-1", "3601"]),
    "LOGIN_FAILURE_LIMIT": ({}, "3", "100", ["0", "-1", "2", "101"]),
    "LOGIN_COOLOFF_MINUTES": ({}, "1", "1440", ["0", "-1", "1441"]),
    "S3_CONNECT_TIMEOUT": (S3_ENV, "0.1", "60", ["0", "-1", "0.05", "61", "nan"]),
    "S3_READ_TIMEOUT": (S3_ENV, "1", "300", ["0", "-1", "0.5", "301", "inf"]),
    "REVIEW_CLAIM_SECONDS": ({}, "30", "86400", ["0", "-1", "29", "86401"]),
    "LIVE_POLL_SECONDS": ({}, "1", "60", ["0", "-1", "61"]),
    "UNDO_SECONDS": ({}, "5", "3600", ["0", "-1", "4", "3601"]),
}
BAD_NUMBERS = [
    pytest.param(name, value, id=f"{name}={value}")
    for name, (_, _, _, out_of_range) in NUMBER_SETTINGS.items()
    for value in ["5m", *out_of_range]
]


# Reads flowsite/settings.py afresh for each environment in one process (a process per case cost a
# second of CPU each), printing what stopped it: the error a deploy's start-up would end with.
_READ_SETTINGS_EACH_TIME = """
import json, os, runpy, sys
outcomes = {}
for case, env in json.load(sys.stdin).items():
    os.environ.clear()
    os.environ.update(env)
    try:
        runpy.run_path("flowsite/settings.py")
        outcomes[case] = None
    except Exception as error:
        outcomes[case] = f"{type(error).__name__}: {error}"
print(json.dumps(outcomes))
"""


@pytest.fixture(scope="module")
def settings_errors() -> dict:
    """For every case of BAD_NUMBERS, the error reading the settings stopped at (None: it read them)."""
    cases = {
        f"{name}={value}": production_env(**NUMBER_SETTINGS[name][0], **{name: value})
        for name, (_, _, _, out_of_range) in NUMBER_SETTINGS.items()
        for value in ["5m", *out_of_range]
    }
    result = subprocess.run(
        [sys.executable, "-c", _READ_SETTINGS_EACH_TIME],
        cwd=ROOT,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("name", "value"), BAD_NUMBERS)
def test_a_malformed_or_out_of_range_number_stops_start_up_naming_the_variable_and_its_range(
    settings_errors, name, value
):
    needs, lowest, highest, _ = NUMBER_SETTINGS[name]

    error = settings_errors[f"{name}={value}"]

    assert error is not None, f"{name}={value} was read as a setting"
    assert name in error
    assert f"from {lowest} to {highest}" in error


def test_a_number_out_of_range_stops_manage_py_before_any_check():
    """The same error, end to end: a deploy's start-up stops there, naming the variable."""
    result = manage("check", env=production_env(REVIEW_CLAIM_SECONDS="0"))

    assert result.returncode != 0
    assert "System check" not in result.stdout  # Django never got as far as checking the project
    error = result.stderr.strip().splitlines()[-1]  # the error itself, not only the traceback
    assert "REVIEW_CLAIM_SECONDS" in error
    assert "from 30 to 86400" in error


@pytest.mark.parametrize("bound", ["lowest", "highest"])
def test_every_number_setting_at_its_bound_starts(bound):
    env = production_env()
    for name, (needs, lowest, highest, _) in NUMBER_SETTINGS.items():
        env.update(needs, **{name: lowest if bound == "lowest" else highest})

    result = manage("check", env=env)

    assert result.returncode == 0, result.stderr


def test_every_number_read_from_the_environment_has_a_range_and_is_tested_here():
    source = (ROOT / "flowsite" / "settings.py").read_text()

    ranged = set(re.findall(r'(?:env_number|seconds)\(\s*"([A-Z0-9_]+)"', source))

    assert ranged == set(NUMBER_SETTINGS)
    assert not re.search(r"env\.(int|float|decimal)\(|(int|float)\(os\.environ", source)


def test_host_lists_are_stripped_of_spaces_and_empty_entries():
    env = production_env(ALLOWED_HOSTS="a.com, b.com,", CSRF_TRUSTED_ORIGINS=" https://a.com ,")

    values = settings_in(env, "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS")

    assert values == {"ALLOWED_HOSTS": ["a.com", "b.com"], "CSRF_TRUSTED_ORIGINS": ["https://a.com"]}

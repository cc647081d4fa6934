"""Behind a proxy (BEHIND_PROXY=1), gunicorn takes the scheme from X-Forwarded-Proto alone, the header
docs/deploy.md has the proxy set and Django reads: not from X-Forwarded-Ssl, X-Forwarded-Protocol or a
client's SCRIPT_NAME header, which such a proxy passes through from the client untouched.

The app runs as deployed (gunicorn.conf.py, production settings, HTTPS redirect on); requests come from
loopback, the address FORWARDED_ALLOW_IPS trusts by default, as through the proxy.
"""

import http.client
import json
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from approvals.tests.production_server import ROOT, DedicatedPostgres, ProductionApp

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    # Not under pytest's basetemp, which PostgreSQL's own user cannot traverse (see test_production_server.py).
    with tempfile.TemporaryDirectory(prefix="flow-proxy-") as folder:
        os.chmod(folder, 0o755)  # noqa: S103 (the PostgreSQL user must traverse it)
        database = DedicatedPostgres(Path(folder) / "pgdata")
        app = ProductionApp(database, tmp_path_factory.mktemp("proxy-app"))
        app.deploy()
        yield app
        app.stop()
        database.close()


def plain_http_get(app: ProductionApp, path: str, headers: dict[str, str]) -> http.client.HTTPResponse:
    """A GET over plain HTTP carrying only `headers` (no X-Forwarded-Proto unless given)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
    try:
        conn.request("GET", path, headers={"Host": f"127.0.0.1:{app.port}", **headers})
        response = conn.getresponse()
        response.read()
        return response
    finally:
        conn.close()


@pytest.mark.parametrize(
    "claim",
    [{"X-Forwarded-Ssl": "on"}, {"X-Forwarded-Protocol": "ssl"}],
    ids=["X-Forwarded-Ssl", "X-Forwarded-Protocol"],
)
def test_a_scheme_header_the_proxy_does_not_set_does_not_make_plain_http_https(app, claim):
    response = plain_http_get(app, "/login/", claim)

    # Plain HTTP as Django sees it: redirected to HTTPS, no HSTS.
    assert response.status == 301
    assert response.getheader("Location") == f"https://127.0.0.1:{app.port}/login/"
    assert response.getheader("Strict-Transport-Security") is None


def test_x_forwarded_proto_from_the_proxy_still_makes_the_request_https(app):
    response = plain_http_get(app, "/login/", {"X-Forwarded-Proto": "https"})

    assert response.status == 200
    assert response.getheader("Strict-Transport-Security")


def test_a_contrary_header_beside_the_proxys_does_not_refuse_the_request(app):
    # Gunicorn's default compared both and answered 400 to a proxied HTTPS request.
    response = plain_http_get(app, "/login/", {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "off"})

    assert response.status == 200


def test_a_clients_script_name_header_does_not_move_the_apps_urls(app):
    response = plain_http_get(app, "/login/", {"X-Forwarded-Proto": "https", "SCRIPT_NAME": "/login"})

    assert response.status == 200


def django_setting(app: ProductionApp, name: str):
    """A setting as the deployed app reads it from its environment."""
    code = f"import json, django; from django.conf import settings; django.setup(); print(json.dumps(settings.{name}))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**app.env, "DJANGO_SETTINGS_MODULE": "flowsite.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_gunicorn_believes_the_scheme_header_django_reads_and_no_other(app, monkeypatch):
    monkeypatch.setenv("BEHIND_PROXY", app.env["BEHIND_PROXY"])
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    header, value = django_setting(app, "SECURE_PROXY_SSL_HEADER")

    assert {f"HTTP_{name.replace('-', '_')}": v for name, v in gunicorn["secure_scheme_headers"].items()} == {
        header: value
    }
    assert gunicorn["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert gunicorn["forwarder_headers"] == ""

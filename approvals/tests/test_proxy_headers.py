"""Behind a proxy (BEHIND_PROXY=1), gunicorn takes the scheme from X-Forwarded-Proto alone, the header
docs/deploy.md has the proxy set and Django reads: not from X-Forwarded-Ssl, X-Forwarded-Protocol or a
client's SCRIPT_NAME header, which such a proxy passes through from the client untouched.

The app runs as deployed (gunicorn.conf.py, production settings, HTTPS redirect on); requests come from
loopback, the address FORWARDED_ALLOW_IPS trusts by default, as through the proxy.
"""

import http.client
import os
import runpy
import tempfile
from pathlib import Path

import pytest

from approvals.tests.production_server import ROOT, DedicatedPostgres, ProductionApp
from approvals.tests.test_production_settings import production_env, settings_in

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


def test_gunicorn_believes_the_scheme_header_django_reads_and_no_other(monkeypatch):
    monkeypatch.setenv("BEHIND_PROXY", "1")
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    gunicorn = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    django = settings_in(production_env(BEHIND_PROXY="1"), "SECURE_PROXY_SSL_HEADER")["SECURE_PROXY_SSL_HEADER"]

    assert {f"HTTP_{name.replace('-', '_')}": value for name, value in gunicorn["secure_scheme_headers"].items()} == {
        django[0]: django[1]
    }
    assert gunicorn["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert gunicorn["forwarder_headers"] == ""

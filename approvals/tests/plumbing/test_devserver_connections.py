"""`make run` (Django's runserver) holds a team of eight reviewers working at once without running out of connections.

runserver starts a thread per request; with persistent connections each
thread kept its own until the database refused more ("too many clients").
The server here is the one `make run` starts, on a PostgreSQL of its own with
a small connection limit, so a leak shows within a few hundred requests.
"""

import http.client
import os
import subprocess
import sys
import threading
import time

import psycopg
import pytest

from approvals.tests.production_server import LEFT_OUT_OF_PRODUCTION, ROOT, DedicatedPostgres

pytestmark = pytest.mark.slow

PORT = 8150  # this project's range for servers a test starts: 8100-8199
CLIENTS = 8
REQUESTS_PER_CLIENT = 60
MAX_CONNECTIONS = 30


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    server = DedicatedPostgres(tmp_path_factory.mktemp("devserver") / "pgdata")
    with psycopg.connect(server.url, autocommit=True) as connection:
        connection.execute(f"alter system set max_connections = {MAX_CONNECTIONS}")
    server.stop()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="module")
def devserver(database):
    env = {key: value for key, value in os.environ.items() if key not in LEFT_OUT_OF_PRODUCTION | {"CONN_MAX_AGE"}}
    env |= {"DATABASE_URL": database.url, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if status_of("/healthz") == 200:
                break
        except OSError:
            time.sleep(0.2)
    yield process
    process.terminate()
    process.wait(timeout=30)


def status_of(path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_eight_concurrent_clients_on_the_dev_server_never_see_a_server_error(devserver):
    statuses: list[int] = []

    def client() -> None:
        for _ in range(REQUESTS_PER_CLIENT):
            statuses.append(status_of("/healthz"))  # one database query per request

    clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()

    assert len(statuses) == CLIENTS * REQUESTS_PER_CLIENT
    assert [status for status in statuses if status >= 500] == []

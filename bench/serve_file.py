"""File serving benchmark: a 200 MB artifact through the file view vs `python -m http.server`.

    python -m bench.serve_file               # 200 MB, 5 rounds each, alternating servers
    python -m bench.serve_file --mb 50 --rounds 3
    python -m bench.serve_file --s3           # also stream the file from an S3 server (moto) on loopback

Same file, same machine, same run. The app runs as in production (gunicorn, one
sync worker, DEBUG off) on the local storage backend; the client is the same
for both servers and reads into a reused buffer. Reports median throughput of
each, their ratio, and the serving worker's peak RSS growth (psutil, sampled
every 5 ms) from before its first whole-file response to the end of the
downloads. Pass: ratio >= 0.8 and growth < 50 MB.
With --s3 the same artifact is then served from moto's S3 server on loopback
(no sendfile there: ranged GetObject streamed in 256 KB reads); its RSS growth
must stay under 50 MB too.
"""

import argparse
import http.client
import json
import logging
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

from bench.environment import PYTHON, ROOT, free_port, manage, production_env, recreate_database

DATABASE = "flow_bench_files"
ARTIFACT_PATH = "bench/launch-video-master.bin"
READ_BUFFER = 1024 * 1024


def make_file(path: Path, megabytes: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1024 * 1024)
    with path.open("wb") as output:
        for _ in range(megabytes):
            output.write(block)


def prepare_database(env: dict, size: int) -> tuple[str, str]:
    """A fresh database with one reviewer, one file artifact and a session; returns (artifact id, session key)."""
    recreate_database(DATABASE)
    manage("apply_sql", database=DATABASE)
    manage("migrate", "--noinput", database=DATABASE)
    script = (
        "import json\n"
        "from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY\n"
        "from django.contrib.auth.models import Group, User\n"
        "from django.contrib.sessions.backends.db import SessionStore\n"
        "from approvals.models import Artifact, Project\n"
        "user = User.objects.create_user('bench_files', password=None)\n"
        "user.groups.add(Group.objects.get(name='Reviewers'))\n"
        "project = Project.objects.create(name='Bench files')\n"
        f"artifact = Artifact.objects.create(project=project, name='launch-video-master.bin', kind='file',"
        f" storage_path={ARTIFACT_PATH!r}, mime_type='application/octet-stream', size_bytes={size})\n"
        "session = SessionStore()\n"
        "session[SESSION_KEY] = str(user.pk)\n"
        "session[BACKEND_SESSION_KEY] = 'django.contrib.auth.backends.ModelBackend'\n"
        "session[HASH_SESSION_KEY] = user.get_session_auth_hash()\n"
        "session.create()\n"
        "print(json.dumps({'artifact': str(artifact.id), 'session': session.session_key}))\n"
    )
    # The session's auth hash depends on SECRET_KEY: the same one the server runs with.
    output = manage("shell", "-c", script, database=DATABASE, SECRET_KEY=env["SECRET_KEY"]).stdout
    created = json.loads(output.strip().splitlines()[-1])
    return created["artifact"], created["session"]


def wait_for(port: int, path: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start") from None
            time.sleep(0.1)


@contextmanager
def running(command: list[str], *, env: dict, port: int, ready_path: str):
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(port, ready_path, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def download(port: int, path: str, *, headers: dict, expected: int) -> float:
    """Seconds to fetch the whole body; the bytes are read into one reused buffer and dropped."""
    buffer = bytearray(READ_BUFFER)
    view = memoryview(buffer)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    if response.status != 200:
        raise RuntimeError(f"GET {path} answered {response.status}: {response.read(500)!r}")
    received = 0
    while True:
        count = response.readinto(view)
        if not count:
            break
        received += count
    elapsed = time.perf_counter() - started
    conn.close()
    if received != expected:
        raise RuntimeError(f"GET {path} sent {received} bytes, expected {expected}")
    return elapsed


def check_range(port: int, path: str, *, headers: dict, source: Path) -> None:
    """Through gunicorn's sendfile path, a range must still be exactly those bytes."""
    start = source.stat().st_size // 2 + 12345
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers | {"Range": f"bytes={start}-{start + 99_999}"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    with source.open("rb") as original:
        original.seek(start)
        expected = original.read(100_000)
    if response.status != 206 or body != expected:
        raise RuntimeError(f"range request answered {response.status} with {len(body)} bytes that differ")


class PeakRss:
    """Samples a process's RSS in a thread; `peak` is the highest seen since start()."""

    def __init__(self, pid: int, interval: float = 0.005):
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()


def serving_worker(master: subprocess.Popen) -> psutil.Process:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        children = psutil.Process(master.pid).children()
        if children:
            return children[0]
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="downloads per server (default 5)")
    parser.add_argument("--s3", action="store_true", help="also serve the file from an S3 server on loopback")
    args = parser.parse_args()
    size = args.mb * 1024 * 1024

    workdir = Path(tempfile.mkdtemp(prefix="flow-bench-files-"))
    try:
        storage_root = workdir / "storage" / "flow-artifacts"
        make_file(storage_root / ARTIFACT_PATH, args.mb)
        env = production_env(DATABASE) | {
            "DJANGO_SETTINGS_MODULE": "flowsite.settings",
            "STORAGE_BACKEND": "local",
            "STORAGE_ROOT": str(storage_root),
            "THUMBNAIL_CACHE_DIR": str(workdir / "thumbnails"),
        }
        print(f"Preparing the database {DATABASE} and a {args.mb} MB file")
        artifact_id, session = prepare_database(env, size)
        app_path = f"/artifacts/{artifact_id}/file/"
        app_headers = {"Cookie": f"sessionid={session}"}

        app_port, plain_port = free_port(), free_port()
        gunicorn = [
            PYTHON,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{app_port}",
            "--workers",
            "1",
            "--access-logfile",
            "/dev/null",
            "flowsite.wsgi:application",
        ]
        plain = [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(storage_root), str(plain_port)]
        results = {"app": [], "http.server": []}
        with (
            running(gunicorn, env=env, port=app_port, ready_path="/healthz") as master,
            running(plain, env=os.environ.copy(), port=plain_port, ready_path="/") as plain_server,
        ):
            worker = serving_worker(master)
            # The file in the page cache for both; the app's code path loaded by one small range
            # request, so the baseline is taken before the worker has ever sent the whole file.
            download(plain_port, "/" + ARTIFACT_PATH, headers={}, expected=size)
            check_range(app_port, app_path, headers=app_headers, source=storage_root / ARTIFACT_PATH)
            worker_baseline = worker.memory_info().rss
            plain_baseline = psutil.Process(plain_server.pid).memory_info().rss
            with PeakRss(worker.pid) as worker_peak, PeakRss(plain_server.pid) as plain_peak:
                for round_number in range(1, args.rounds + 1):
                    app_seconds = download(app_port, app_path, headers=app_headers, expected=size)
                    plain_seconds = download(plain_port, "/" + ARTIFACT_PATH, headers={}, expected=size)
                    results["app"].append(app_seconds)
                    results["http.server"].append(plain_seconds)
                    print(
                        f"  round {round_number}: file view {size / app_seconds / 1e6:,.0f} MB/s, "
                        f"http.server {size / plain_seconds / 1e6:,.0f} MB/s"
                    )
        passed = report(
            size=size,
            results=results,
            worker_growth=worker_peak.peak - worker_baseline,
            worker_baseline=worker_baseline,
            plain_growth=plain_peak.peak - plain_baseline,
        )
        if args.s3:
            passed = (
                measure_s3(
                    env=env, source=storage_root / ARTIFACT_PATH, path=app_path, headers=app_headers, rounds=args.rounds
                )
                and passed
            )
        if not passed:
            raise SystemExit(1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def report(*, size: int, results: dict, worker_growth: int, worker_baseline: int, plain_growth: int) -> bool:
    app = size / statistics.median(results["app"]) / 1e6
    plain = size / statistics.median(results["http.server"]) / 1e6
    ratio = app / plain
    mb = 1024 * 1024
    print()
    print(f"file size                         {size / mb:,.0f} MB, {len(results['app'])} downloads per server")
    print(f"file view (gunicorn, 1 worker)    median {app:,.0f} MB/s")
    print(f"python -m http.server             median {plain:,.0f} MB/s")
    print(f"throughput ratio                  {ratio:.2f}  (must be >= 0.80)")
    print(f"worker RSS at start               {worker_baseline / mb:,.1f} MB")
    print(f"worker peak RSS growth            {worker_growth / mb:,.1f} MB  (must be < 50 MB)")
    print(f"http.server peak RSS growth       {plain_growth / mb:,.1f} MB")
    passed = ratio >= 0.8 and worker_growth < 50 * mb
    print("PASS" if passed else "FAIL")
    return passed


def measure_s3(*, env: dict, source: Path, path: str, headers: dict, rounds: int) -> bool:
    """The same artifact from moto's S3 server on loopback: streamed, so the worker's memory stays flat."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    credentials = {"S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "bench", "S3_SECRET_ACCESS_KEY": "bench"}
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=credentials["S3_REGION"],
        aws_access_key_id=credentials["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["S3_SECRET_ACCESS_KEY"],
    )
    client.create_bucket(Bucket="flow-artifacts")
    client.upload_file(str(source), "flow-artifacts", ARTIFACT_PATH)
    size = source.stat().st_size
    s3_env = env | credentials | {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": endpoint}
    app_port = free_port()
    command = [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{app_port}", "--workers", "1", "--timeout", "120"]
    command += ["--access-logfile", "/dev/null", "flowsite.wsgi:application"]
    timings = []
    try:
        with running(command, env=s3_env, port=app_port, ready_path="/healthz") as master:
            worker = serving_worker(master)
            check_range(app_port, path, headers=headers, source=source)
            baseline = worker.memory_info().rss
            with PeakRss(worker.pid) as peak:
                for _ in range(rounds):
                    timings.append(download(app_port, path, headers=headers, expected=size))
    finally:
        server.stop()
    growth = peak.peak - baseline
    mb = 1024 * 1024
    print()
    print(f"file view on S3 (moto, loopback)  median {size / statistics.median(timings) / 1e6:,.0f} MB/s")
    print(f"worker peak RSS growth (S3)       {growth / mb:,.1f} MB  (must be < 50 MB)")
    passed = growth < 50 * mb
    print("PASS" if passed else "FAIL")
    return passed


if __name__ == "__main__":
    main()

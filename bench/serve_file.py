"""File serving benchmark: a 200 MB artifact through the file view vs `python -m http.server`.

    python -m bench.serve_file               # 200 MB, 5 rounds each, alternating servers
    python -m bench.serve_file --mb 50 --rounds 3
    python -m bench.serve_file --s3           # also stream the file from an S3 server (moto) on loopback
    python -m bench.serve_file --smoke        # 1 MB, one round: the code path and the bytes, in seconds

Same file, same machine, same run. The app runs as in production (gunicorn with
the checkout's gunicorn.conf.py, which it reads from its working folder: one
gthread worker, DEBUG off) on the local storage backend; the client is the same
for both servers and reads into a reused buffer. Reports median throughput of
each, their ratio, and the serving worker's peak RSS growth (psutil, sampled
every 5 ms) from before its first whole-file response to the end of the
downloads. Pass: ratio >= 0.8 and growth < 50 MB. The reviewer logs in through
the login form; every run checks the file view's bytes (a range and the whole
file) against the file on disk.
With --s3 the same artifact is then served from moto's S3 server on loopback
(no sendfile there: ranged GetObject streamed in 256 KB reads); its RSS growth
must stay under 50 MB too.
"""

import argparse
import hashlib
import http.client
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

from bench.environment import (
    BENCH_PASSWORD,
    PYTHON,
    ROOT,
    SCHEMA_SCRIPT,
    collect_static,
    drop_database,
    free_port,
    log_in,
    manage,
    production_env,
    recreate_database,
    run_database_name,
)

REVIEWER = "bench_files"
ARTIFACT_PATH = "bench/launch-video-master.bin"
READ_BUFFER = 1024 * 1024
MB = 1024 * 1024


def make_file(path: Path, megabytes: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1024 * 1024)
    with path.open("wb") as output:
        for _ in range(megabytes):
            output.write(block)


def prepare_database(database: str, size: int) -> str:
    """A fresh database with one reviewer and one file artifact; returns the artifact's id.

    The reviewer then logs in through the login form, as a person does.
    """
    recreate_database(database)
    script = SCHEMA_SCRIPT + (
        "from django.contrib.auth.models import Group, User\n"
        "from approvals.models import Artifact, Project\n"
        f"user = User.objects.create_user({REVIEWER!r}, password={BENCH_PASSWORD!r})\n"
        "user.groups.add(Group.objects.get(name='Reviewers'))\n"
        "project = Project.objects.create(name='Bench files')\n"
        f"artifact = Artifact.objects.create(project=project, name='launch-video-master.bin', kind='file',"
        f" storage_path={ARTIFACT_PATH!r}, mime_type='application/octet-stream', size_bytes={size})\n"
        "print(artifact.id)\n"
    )
    return manage("shell", "-c", script, database=database).stdout.strip().splitlines()[-1]


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


def check_whole_file(port: int, path: str, *, headers: dict, source: Path) -> None:
    """The whole body, byte for byte (checked once, outside the timed downloads)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    received = hashlib.sha256()
    while chunk := response.read(READ_BUFFER):
        received.update(chunk)
    conn.close()
    expected = hashlib.sha256()
    with source.open("rb") as original:
        while chunk := original.read(READ_BUFFER):
            expected.update(chunk)
    if response.status != 200 or received.digest() != expected.digest():
        raise RuntimeError(f"GET {path} answered {response.status} with a body that differs from the file")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=int, default=200, help="file size in MB (default 200)")
    parser.add_argument("--rounds", type=int, default=5, help="downloads per server (default 5)")
    parser.add_argument("--s3", action="store_true", help="also serve the file from an S3 server on loopback")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a 1 MB file, one round: checks the bytes and the table; the limits are not judged at that size",
    )
    args = parser.parse_args()
    if args.smoke:
        args.mb, args.rounds = 1, 1
    return args


def main() -> None:
    args = parse_args()
    size = args.mb * MB
    database = run_database_name("flow_bench_files")
    workdir = Path(tempfile.mkdtemp(prefix="flow-bench-files-"))
    try:
        storage_root = workdir / "storage" / "flow-artifacts"
        make_file(storage_root / ARTIFACT_PATH, args.mb)
        env = production_env(database) | {
            "DJANGO_SETTINGS_MODULE": "flowsite.settings",
            "STORAGE_BACKEND": "local",
            "STORAGE_ROOT": str(storage_root),
            "THUMBNAIL_CACHE_DIR": str(workdir / "thumbnails"),
        }
        print(f"Preparing the database {database} and a {args.mb} MB file")
        app_path = f"/artifacts/{prepare_database(database, size)}/file/"
        source = storage_root / ARTIFACT_PATH
        collect_static(env)
        served = measure_local(env=env, source=source, app_path=app_path, rounds=args.rounds)
        headers = served.pop("headers")  # the reviewer's session, for the S3 server too
        passed = report(size=size, smoke=args.smoke, **served)
        if args.s3:
            s3_passed = measure_s3(
                env=env, source=source, path=app_path, headers=headers, rounds=args.rounds, smoke=args.smoke
            )
            passed = s3_passed and passed
        if not passed:
            raise SystemExit(1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        drop_database(database)


def measure_local(*, env: dict, source: Path, app_path: str, rounds: int) -> dict:
    """Alternating downloads from the file view (gunicorn, local storage) and from http.server."""
    size = source.stat().st_size
    plain_path = "/" + ARTIFACT_PATH
    app_port, plain_port = free_port(), free_port()
    gunicorn = [PYTHON, "-m", "gunicorn", "--bind", f"127.0.0.1:{app_port}", "--workers", "1"]
    gunicorn += ["--access-logfile", "/dev/null", "flowsite.wsgi:application"]
    plain = [PYTHON, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(source.parents[1]), str(plain_port)]
    results = {"app": [], "http.server": []}
    with (
        running(gunicorn, env=env, port=app_port, ready_path="/healthz") as master,
        running(plain, env=os.environ.copy(), port=plain_port, ready_path="/") as plain_server,
    ):
        cookie, _ = log_in(f"http://127.0.0.1:{app_port}", REVIEWER)
        headers = {"Cookie": cookie}
        worker = serving_worker(master)
        # The file in the page cache for both; the app's code path loaded by one small range
        # request, so the baseline is taken before the worker has ever sent the whole file.
        download(plain_port, plain_path, headers={}, expected=size)
        check_range(app_port, app_path, headers=headers, source=source)
        worker_baseline = worker.memory_info().rss
        plain_baseline = psutil.Process(plain_server.pid).memory_info().rss
        with PeakRss(worker.pid) as worker_peak, PeakRss(plain_server.pid) as plain_peak:
            for round_number in range(1, rounds + 1):
                app_seconds = download(app_port, app_path, headers=headers, expected=size)
                plain_seconds = download(plain_port, plain_path, headers={}, expected=size)
                results["app"].append(app_seconds)
                results["http.server"].append(plain_seconds)
                print(
                    f"  round {round_number}: file view {size / app_seconds / 1e6:,.0f} MB/s, "
                    f"http.server {size / plain_seconds / 1e6:,.0f} MB/s"
                )
        check_whole_file(app_port, app_path, headers=headers, source=source)
    return {
        "headers": headers,
        "results": results,
        "worker_growth": worker_peak.peak - worker_baseline,
        "worker_baseline": worker_baseline,
        "plain_growth": plain_peak.peak - plain_baseline,
    }


def report(
    *, size: int, smoke: bool, results: dict, worker_growth: int, worker_baseline: int, plain_growth: int
) -> bool:
    app = size / statistics.median(results["app"]) / 1e6
    plain = size / statistics.median(results["http.server"]) / 1e6
    ratio = app / plain
    print()
    print(f"file size                         {size / MB:,.0f} MB, {len(results['app'])} downloads per server")
    print(f"file view (gunicorn, 1 worker)    median {app:,.0f} MB/s")
    print(f"python -m http.server             median {plain:,.0f} MB/s")
    print(f"throughput ratio                  {ratio:.2f}  (must be >= 0.80)")
    print(f"worker RSS at start               {worker_baseline / MB:,.1f} MB")
    print(f"worker peak RSS growth            {worker_growth / MB:,.1f} MB  (must be < 50 MB)")
    print(f"http.server peak RSS growth       {plain_growth / MB:,.1f} MB")
    print("bytes checked                     the whole file and a 100 kB range, both equal: OK")
    if smoke:
        print("SMOKE: limits not judged at this size")
        return True
    passed = ratio >= 0.8 and worker_growth < 50 * MB
    print("PASS" if passed else "FAIL")
    return passed


def measure_s3(*, env: dict, source: Path, path: str, headers: dict, rounds: int, smoke: bool) -> bool:
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
            check_whole_file(app_port, path, headers=headers, source=source)
    finally:
        server.stop()
    growth = peak.peak - baseline
    print()
    print(f"file view on S3 (moto, loopback)  median {size / statistics.median(timings) / 1e6:,.0f} MB/s")
    print(f"worker peak RSS growth (S3)       {growth / MB:,.1f} MB  (must be < 50 MB)")
    print("bytes checked (S3)                the whole file and a 100 kB range, both equal: OK")
    if smoke:
        print("SMOKE: limits not judged at this size")
        return True
    passed = growth < 50 * MB
    print("PASS" if passed else "FAIL")
    return passed


if __name__ == "__main__":
    main()

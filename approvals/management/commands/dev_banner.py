"""What `make run` says around the development server: is the port free, then (once it serves) how to log in.

Django's runserver prints its own startup lines; the login line printed
before them scrolled away. `--when-up` waits in the background until the
server accepts connections and prints the banner after those lines.
"""

import os
import socket
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from approvals.seeding.demo import DEMO_USERNAME

WAIT_SECONDS = 120


def _address(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    try:
        return host or "127.0.0.1", int(port)
    except ValueError:
        raise CommandError(f"Not HOST:PORT: {value!r}") from None


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.settimeout(1)
        return probe.connect_ex((host, port)) == 0


class Command(BaseCommand):
    help = "Check that HOST:PORT is free (--check), or wait until it serves and print the login banner (--when-up)."

    def add_arguments(self, parser):
        parser.add_argument("address", help="HOST:PORT, as given to runserver")
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--check", action="store_true", help="fail with a clear message if the port is taken")
        mode.add_argument("--when-up", action="store_true", help="print the banner once the server answers")

    def handle(self, *args, address: str, check: bool, when_up: bool, **options):
        host, port = _address(address)
        if check:
            if port_in_use(host, port):
                raise CommandError(
                    f"Port {port} on {host} is already in use (another `make run`?). "
                    f"Stop that server, or choose another port: make run PORT={port + 1}"
                )
            return
        deadline = time.monotonic() + WAIT_SECONDS
        parent = os.getppid()
        while not port_in_use(host, port):
            # runserver failed and said why, or make was stopped: no banner over its error.
            if time.monotonic() > deadline or os.getppid() != parent:
                return
            time.sleep(0.3)
        self.stdout.write(self.banner(host, port))

    def banner(self, host: str, port: int) -> str:
        password_file = settings.VAR_DIR / "demo-login.txt"
        password = password_file.read_text().strip() if password_file.exists() else None
        login = f"{DEMO_USERNAME} / {password}" if password else f"{DEMO_USERNAME} (password: see {password_file})"
        lines = [
            "",
            "=" * 64,
            f"  Flow Review is running at http://{host}:{port}/",
            f"  Log in as {login}",
            "  Ctrl+C stops the app; `make stop` stops the embedded PostgreSQL.",
            "=" * 64,
            "",
        ]
        return "\n".join(lines)

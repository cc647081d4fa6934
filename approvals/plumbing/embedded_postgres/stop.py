"""`make stop`: stop the embedded PostgreSQL that the app and the tests leave running in var/pgdata.

Run as `python -m approvals.plumbing.embedded_postgres.stop var/pgdata`. It
starts again on the next command that needs the database.
"""

import os
import sys
import warnings
from pathlib import Path


def stop(data_dir: Path) -> str:
    if not (data_dir / "postmaster.pid").exists():
        return f"The embedded PostgreSQL is not running ({data_dir})."
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

    # pgserver runs the server as the system user `pgserver` when started by root: stop it as that user too.
    user = "pgserver" if os.geteuid() == 0 else None
    pgserver.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=data_dir, user=user, timeout=60)
    return f"Stopped the embedded PostgreSQL ({data_dir})."


if __name__ == "__main__":
    print(stop(Path(sys.argv[1] if len(sys.argv) > 1 else "var/pgdata").resolve()))

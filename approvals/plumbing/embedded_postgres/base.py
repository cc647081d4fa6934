import threading
import warnings
from pathlib import Path

from django.db.backends.postgresql import base

_started: set[str] = set()
_start_lock = threading.Lock()


def ensure_embedded_server(data_dir: str) -> None:
    """Start pgserver's PostgreSQL in data_dir unless this process already did."""
    if data_dir in _started:
        return
    with _start_lock:
        if data_dir in _started:
            return
        Path(data_dir).mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (as on servers).
            warnings.simplefilter("ignore")
            import pgserver  # imported here: only the embedded path needs it

            # cleanup_mode=None: leave the server running for the next process.
            pgserver.get_server(data_dir, cleanup_mode=None)
        _started.add(data_dir)


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        ensure_embedded_server(self.settings_dict["HOST"])
        return super().get_connection_params()

"""`moderately serve` with its defaults for a benchmark: in its own process, on SQLite in a
temporary data dir or on a throwaway PostgreSQL database on the local server, started and
settled before anything is measured, stopped (and its database dropped) afterwards."""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "platform" / "tests"))

from adversarial_helpers import ServerProcess  # noqa: E402  (the platform tests' helper)
from moderately.testing import create_postgres_database, drop_postgres_database  # noqa: E402

__all__ = ["ServerProcess", "served"]


@contextlib.contextmanager
def served(database: str, *, workers: int = 2) -> Iterator[ServerProcess]:
    """A running server on `database` ("sqlite" or "postgresql")."""
    url = create_postgres_database() if database == "postgresql" else None
    try:
        with tempfile.TemporaryDirectory(prefix="moderately-bench-") as tmp:
            server = ServerProcess(Path(tmp) / "data", database_url=url, workers=workers)
            server.start(timeout=180)  # imports take long on a busy machine
            try:
                time.sleep(2)  # the job workers finish starting before anything is measured
                yield server
            finally:
                server.stop()
    finally:
        if url is not None:
            drop_postgres_database(url)

"""Real servers on loopback, started once per session and shared through tests/conftest.py.

* `seaweedfs`: a real S3 server (SeaweedFS), started on first use;
* `live_server`: the whole platform in uvicorn through `moderately.testing.run_server`, once on
  SQLite with the local store and once on PostgreSQL with SeaweedFS behind it. Tests that need
  real HTTP (presigned transfers, a response racing its own bookkeeping) take it;
* `start_live_server`: the same two configurations for modules that need a server of their own
  (other settings, or cases that change things at random).

A module rather than conftest.py, because tests/storage has a conftest.py of its own and two
modules named `conftest` cannot both be imported.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_helpers import POSTGRES_ADMIN_URL

from moderately.testing import (
    RunningServer,
    create_postgres_database,
    drop_postgres_database,
    run_server,
)
from moderately.testing_s3 import S3Endpoint, run_seaweedfs

BUCKET = "moderately-tests"
# The pairs of database and object store every live test runs on (a fixture's params).
CONFIGURATIONS = ["sqlite-local", "postgresql-s3"]


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    with run_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


@contextlib.contextmanager
def start_live_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    *,
    prefix: str | None = None,
    **options: Any,
) -> Iterator[RunningServer]:
    """A server in the configuration `request.param` names (one of `CONFIGURATIONS`): SQLite
    with the local store, or a fresh PostgreSQL database (dropped after) with SeaweedFS under
    `BUCKET/<prefix or name>`; `options` are more `run_server` settings."""
    data_dir = Path(tmp_path_factory.mktemp(name))
    if request.param == "sqlite-local":
        with run_server(data_dir=data_dir, **options) as server:
            yield server
        return
    endpoint: S3Endpoint = request.getfixturevalue("seaweedfs")
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        with run_server(
            data_dir=data_dir,
            database_url=url,
            storage_url=endpoint.storage_url(f"{BUCKET}/{prefix or name}"),
            s3_access_key=endpoint.access_key,
            s3_secret_key=endpoint.secret_key,
            **options,
        ) as server:
            yield server
    finally:
        drop_postgres_database(url)


@pytest.fixture(scope="session", params=CONFIGURATIONS)
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    with start_live_server(request, tmp_path_factory, "live") as server:
        yield server

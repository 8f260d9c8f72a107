"""Real servers on loopback, started once per session and shared through tests/conftest.py.

* `seaweedfs`: a real S3 server (SeaweedFS), started on first use;
* `live_server`: the whole platform in uvicorn through `moderately.testing.run_server`, once on
  SQLite with the local store and once on PostgreSQL with SeaweedFS behind it. Tests that need
  real HTTP (presigned transfers, a response racing its own bookkeeping) take it.

A module rather than conftest.py, because tests/storage has a conftest.py of its own and two
modules named `conftest` cannot both be imported.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Endpoint]:
    with run_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session", params=["sqlite-local", "postgresql-s3"])
def live_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    data_dir = Path(tmp_path_factory.mktemp("live"))
    if request.param == "sqlite-local":
        with run_server(data_dir=data_dir) as server:
            yield server
        return
    endpoint: S3Endpoint = request.getfixturevalue("seaweedfs")
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        with run_server(
            data_dir=data_dir,
            database_url=url,
            storage_url=endpoint.storage_url(f"{BUCKET}/live"),
            s3_access_key=endpoint.access_key,
            s3_secret_key=endpoint.secret_key,
        ) as server:
            yield server
    finally:
        drop_postgres_database(url)

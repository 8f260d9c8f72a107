"""Shared fixtures: the real server (SQLite + local files, PostgreSQL + S3), users in it, and
instant sleeps."""

import os
import sys
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from moderatelyai_sdk import _io_async, _io_sync

from .pipeline_blocks import MODULE

# The server's jobs run in worker processes: they import the tests' slow block from here.
_SDK = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (_SDK, os.environ.get("PYTHONPATH")) if p)
os.environ["MODERATELY_JOB_MODULES"] = MODULE
# Every test server's workers would load the LLM clients and the agent runtime in their
# forkservers (seconds of CPU each on start); platform/tests/test_agent_runs.py runs with it.
os.environ["MODERATELY_JOB_PRELOAD_AI"] = "false"
# The loopback LLM providers (platform/tests/llm_server.py) that agent executions talk to.
_PLATFORM_TESTS = Path(__file__).resolve().parents[2] / "platform" / "tests"
if _PLATFORM_TESTS.is_dir():
    sys.path.append(str(_PLATFORM_TESTS))


def _llm_settings() -> Dict[str, Any]:
    """Server settings that point every LLM provider at this process's loopback server (the
    server hands them on to its worker processes); none without the platform's tests."""
    try:
        import llm_server
    except ImportError:
        return {}
    settings: Dict[str, Any] = llm_server.llm_settings(llm_server.shared_llm_server())
    return settings


@pytest.fixture
def llm() -> Iterator[Any]:
    """The loopback LLM server the test server's providers point at, reset for this test
    (``script(...)`` replies, set a ``handler``, read ``requests``)."""
    llm_server = pytest.importorskip("llm_server", reason="platform tests missing")
    server = llm_server.shared_llm_server()
    server.reset()
    yield server
    server.reset()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> List[float]:
    """Retry waits are recorded instead of slept, on both clients."""
    recorded: List[float] = []

    async def async_sleep(seconds: float) -> None:
        recorded.append(seconds)

    def sync_sleep(seconds: float) -> None:
        recorded.append(seconds)

    monkeypatch.setattr(_io_async, "sleep", async_sleep)
    monkeypatch.setattr(_io_sync, "sleep", sync_sleep)
    return recorded


@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real S3-compatible server (SeaweedFS) on loopback, started when first needed."""
    testing_s3 = pytest.importorskip("moderately.testing_s3", reason="platform package missing")
    with testing_s3.run_seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session", params=["sqlite-local", "postgres-s3"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """The real ``moderately`` server on a loopback port, in two configurations: SQLite with
    files on local disk (server-signed URLs), and PostgreSQL with files on S3 (SeaweedFS)."""
    testing = pytest.importorskip("moderately.testing", reason="platform package not installed")
    data_dir = tmp_path_factory.mktemp(f"server-{request.param}")
    providers = _llm_settings()
    if request.param == "sqlite-local":
        with testing.run_server(data_dir=data_dir, database_url=None, **providers) as running:
            yield running
        return
    s3 = request.getfixturevalue("seaweedfs")
    database_url = testing.create_postgres_database()
    try:
        with testing.run_server(
            data_dir=data_dir,
            database_url=database_url,
            storage_url=s3.storage_url(f"sdk-{uuid.uuid4().hex[:8]}"),
            s3_access_key=s3.access_key,
            s3_secret_key=s3.secret_key,
            **providers,
        ) as running:
            yield running
    finally:
        testing.drop_postgres_database(database_url)


@pytest.fixture(scope="session")
def admin(server: Any) -> Any:
    """Credentials (base_url, api_key, team_id, user_id) of the server's first admin."""
    return server.admin


@pytest.fixture
def fresh(server: Any) -> Any:
    """A new user who is admin of a new, empty team: tests that count things start clean."""
    tag = uuid.uuid4().hex[:8]
    return server.create_user(f"user-{tag}@example.com", team_name=f"Team {tag}")


@pytest.fixture(scope="session")
def outsider(server: Any) -> Any:
    """A user of another team, who must never see the admin team's data."""
    return server.create_user(f"outsider-{uuid.uuid4().hex[:8]}@example.com", team_name="Elsewhere")


@pytest.fixture
def slow_block(server: Any) -> Iterator[str]:
    """The type name of a block that sleeps ``config.seconds`` (default 30) in the server."""
    pytest.importorskip("moderately.engine.registry", reason="platform package missing")
    from .pipeline_blocks import SLOW, register_slow_block

    register_slow_block()
    yield SLOW

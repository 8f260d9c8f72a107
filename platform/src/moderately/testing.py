"""Run the real server for tests and scripts (used by the SDK's suite and the repo scripts).

with run_server(data_dir=tmp_path) as server:
    client = ModeratelyAI(api_key=server.admin.api_key, team_id=server.admin.team_id,
                          base_url=server.base_url)
    other = server.create_user("bob@example.com")   # a user in a new team of their own

Files are stored on local disk in the data dir (URLs served by the server itself) unless
`storage_url` names another place, e.g. a real S3 server from `moderately.testing_s3`:

with run_seaweedfs(tmp_path / "s3") as endpoint, run_server(
    data_dir=tmp_path / "data",
    storage_url=endpoint.storage_url("bucket"),
    s3_access_key=endpoint.access_key,
    s3_secret_key=endpoint.secret_key,
    max_upload_bytes=1024,           # any other Settings field, by name
) as server:
    ...

`api_extensions=False` serves only the published API: the extensions (api/extensions.py) answer
404, are absent from /openapi.json, and /health lists none.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import uvicorn
from psycopg import sql
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from moderately.app import create_app
from moderately.composition import open_object_store, prepare_queue
from moderately.config import Settings
from moderately.db.migrate import upgrade_to_head
from moderately.db.session import Database
from moderately.ids import new_id
from moderately.services import operator
from moderately.services.operator import IssuedCredentials

T = TypeVar("T")

__all__ = [
    "Credentials",
    "RunningServer",
    "create_postgres_database",
    "drop_postgres_database",
    "run_server",
]


@dataclass(frozen=True)
class Credentials:
    base_url: str
    api_key: str
    team_id: str
    user_id: str


def _run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run on a fresh thread with its own loop, so callers may already be inside one."""

    async def main() -> T:
        database = Database(settings)
        try:
            async with database.session() as session:
                return await work(session)
        finally:
            await database.dispose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, main()).result()


class RunningServer:
    def __init__(self, settings: Settings, admin: Credentials) -> None:
        self.settings = settings
        self.base_url = settings.base_url
        self.admin = admin

    def _credentials(self, issued: IssuedCredentials) -> Credentials:
        return Credentials(
            base_url=self.base_url,
            api_key=issued.api_key,
            team_id=issued.team_id,
            user_id=issued.user_id,
        )

    def create_user(
        self, email: str, *, team_name: str | None = None, team_id: str | None = None
    ) -> Credentials:
        """A new user with a token: admin of a new team, or a member of `team_id`."""

        async def work(session: AsyncSession) -> IssuedCredentials:
            return await operator.create_user_with_token(
                session, email=email, team_name=team_name, team_id=team_id
            )

        return self._credentials(_run_in_session(self.settings, work))

    def create_token(self, user_id: str, *, team_id: str, role: str | None = None) -> Credentials:
        """A token for a member of `team_id` (tokens are team-bound), as
        `moderately admin create-token` issues it."""

        async def work(session: AsyncSession) -> IssuedCredentials:
            return await operator.create_member_token(
                session, user_id=user_id, team_id=team_id, role=role
            )

        return self._credentials(_run_in_session(self.settings, work))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP (not 0) lets asyncio set TCP_NODELAY on accepted connections; without it
    # Nagle's algorithm adds ~40 ms to every small response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


@contextmanager
def run_server(
    *,
    data_dir: Path,
    database_url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    storage_url: str | None = None,
    s3_access_key: str | None = None,
    s3_secret_key: str | None = None,
    api_extensions: bool = True,
    **settings_overrides: Any,
) -> Iterator[RunningServer]:
    """Migrate, bootstrap, serve in a background thread until /health answers; stop on exit.

    `api_extensions=False` serves only the published API (no extension operations).
    `settings_overrides` are further `Settings` fields (`max_upload_bytes`,
    `upload_url_ttl_seconds`, `download_url_ttl_seconds`, ...). Startup fails (here, not on
    the first request) when the object store cannot be reached.
    """
    sock = _bind(host, port)
    try:
        settings = Settings(
            **{
                **settings_overrides,
                "data_dir": Path(data_dir),
                "database_url": database_url,
                "host": host,
                "port": sock.getsockname()[1],
                "migrate_on_startup": False,
                "storage_url": storage_url,
                "s3_access_key": s3_access_key,
                "s3_secret_key": s3_secret_key,
                "api_extensions": api_extensions,
            }
        )
        upgrade_to_head(settings)
        prepare_queue(settings)
        _check_store(settings)
        issued = _run_in_session(settings, operator.admin_credentials)
    except BaseException:
        sock.close()
        raise
    config = uvicorn.Config(
        create_app(settings), log_level="warning", lifespan="on", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="moderately-server", daemon=True
    )
    thread.start()
    try:
        _wait_until_healthy(settings.base_url, thread)
        running = RunningServer(settings, admin=Credentials(settings.base_url, "", "", ""))
        running.admin = running._credentials(issued)
        yield running
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _check_store(settings: Settings) -> None:
    """Open and close the object store once, so a bad storage setting fails with its own error
    rather than as a server thread that died during startup."""

    async def main() -> None:
        store = await open_object_store(settings)
        await store.aclose()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, main()).result()


def _wait_until_healthy(base_url: str, thread: threading.Thread, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("the server thread stopped during startup")
        try:
            with urllib.request.urlopen(f"{base_url}/health", timeout=2.0) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
    raise RuntimeError(f"the server at {base_url} did not become healthy in {timeout} s")


def create_postgres_database(base_url: str = "postgresql://root@127.0.0.1:5432/postgres") -> str:
    """A fresh, empty database on the server of `base_url`; returns its URL."""
    name = "moderately_test_" + new_id(12).lower().replace("-", "_")
    url = make_url(base_url)
    with psycopg.connect(_libpq(base_url), autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    """Drop the database of `url`, closing any connection still open to it."""
    target = make_url(url)
    admin = target.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(str(target.database))
            )
        )


def _libpq(url: str) -> str:
    """psycopg wants a libpq URL: no SQLAlchemy driver suffix."""
    parsed = make_url(url)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)

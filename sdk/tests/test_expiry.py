"""Expired presigned URLs, on both stores, against a server whose URLs live one second.

Sync client only (the transfer code is shared with the async client, see _async/test_files.py for
tampered URLs on both clients). A transport holds each storage request until the URL the API
handed out has expired, so the wait is about one second per test, never a guess.
"""

import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, List, Optional

import httpx
import pytest

from moderatelyai_sdk import FileModel, ModeratelyAI, PermissionDeniedError


@pytest.fixture(scope="module", params=["sqlite-local", "postgres-s3"])
def short_lived(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A server whose upload and download URLs expire after one second."""
    testing = pytest.importorskip("moderately.testing", reason="platform package not installed")
    data_dir = tmp_path_factory.mktemp(f"short-{request.param}")
    ttl = {"upload_url_ttl_seconds": 1, "download_url_ttl_seconds": 1}
    if request.param == "sqlite-local":
        with testing.run_server(data_dir=data_dir, **ttl) as running:
            yield running.create_user(f"u-{uuid.uuid4().hex[:8]}@example.com", team_name="T")
        return
    s3 = request.getfixturevalue("seaweedfs")
    database_url = testing.create_postgres_database()
    try:
        with testing.run_server(
            data_dir=data_dir,
            database_url=database_url,
            storage_url=s3.storage_url(f"short-{uuid.uuid4().hex[:8]}"),
            s3_access_key=s3.access_key,
            s3_secret_key=s3.secret_key,
            **ttl,
        ) as running:
            yield running.create_user(f"u-{uuid.uuid4().hex[:8]}@example.com", team_name="T")
    finally:
        testing.drop_postgres_database(database_url)


class WaitForExpiry(httpx.BaseTransport):
    """The real transport; a storage request (no Authorization) of ``method`` waits until the
    ``expiresAt`` of the last API answer has passed."""

    def __init__(self, method: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.method = method
        self.expires_at: Optional[float] = None
        self.storage: List[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if "authorization" not in request.headers:
            self.storage.append(request)
            if request.method == self.method and self.expires_at is not None:
                time.sleep(max(0.0, self.expires_at - time.time()) + 0.1)
            return self.inner.handle_request(request)
        response = self.inner.handle_request(request)
        if request.url.path.endswith(("/upload-url", "/download")) and response.status_code < 300:
            response.read()
            stamp = response.json().get("expiresAt")
            if stamp:
                self.expires_at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        return response

    def close(self) -> None:
        self.inner.close()


def connect(credentials: Any, http: Optional[httpx.Client] = None) -> ModeratelyAI:
    return ModeratelyAI(
        api_key=credentials.api_key,
        team_id=credentials.team_id,
        base_url=credentials.base_url,
        http_client=http,
    )


def test_expired_upload_url_is_refused(short_lived: Any) -> None:
    transport = WaitForExpiry("PUT")
    with httpx.Client(transport=transport) as http, connect(short_lived, http) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            client.files.upload(b"too late", name="late.txt")
        assert "refused the presigned upload URL" in str(caught.value)
        assert "expired" in str(caught.value).lower()
        assert len(transport.storage) == 1  # a 403 is not retried
        assert client.files.list()["items"] == []  # the pending file was removed


def upload_in_time(client: ModeratelyAI, data: bytes) -> FileModel:
    # URLs live one second from a truncated timestamp: an upload may, rarely, start too late.
    for _ in range(5):
        try:
            return client.files.upload(data, name="soon.txt")
        except PermissionDeniedError:
            continue
    raise AssertionError("no upload started within a second, five times")


def test_expired_download_url_is_refused(short_lived: Any, tmp_path: Path) -> None:
    with connect(short_lived) as client:
        file = upload_in_time(client, b"downloaded too late")
    transport = WaitForExpiry("GET")
    target = tmp_path / "late.txt"
    with httpx.Client(transport=transport) as http, connect(short_lived, http) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            client.files.download(file.file_id, path=target)
        assert "refused the presigned download URL" in str(caught.value)
        assert "expired" in str(caught.value).lower()
    assert list(tmp_path.iterdir()) == []

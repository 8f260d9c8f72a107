"""Presigned transfers at the transport seam: retries, refusals and headers that a real store
can't be made to show on demand. Real-store behaviour is in test_files.py."""

import hashlib
import io
import json
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional, Tuple

import httpx
import pytest

from moderatelyai_sdk import (
    APIError,
    AsyncModeratelyAI,
    FileAsyncModel,
    NotFoundError,
    PermissionDeniedError,
    TimeoutError,
    ValidationError,
)

pytestmark = pytest.mark.anyio

API = "http://api.test"
STORAGE = "http://storage.test"
STAMP = "2025-08-22T20:14:27.504Z"


class BrokenStream(httpx.AsyncByteStream):
    """A response body that delivers ``data`` and then loses the connection."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data
        raise httpx.ReadError("connection reset by peer")


class FakePlatform:
    """The file endpoints and a store, in memory, with faults to inject per storage method.

    ``faults["PUT"]`` / ``faults["GET"]`` are consumed one per storage request: an int answers
    that status, an exception is raised, ``"cut"`` (GET) sends half the body then resets.
    """

    def __init__(self) -> None:
        self.files: Dict[str, Dict[str, Any]] = {}
        self.objects: Dict[str, bytes] = {}
        self.requests: List[httpx.Request] = []
        self.puts: List[bytes] = []
        self.faults: Dict[str, List[Any]] = {"PUT": [], "GET": []}
        self.tamper = False  # serve other bytes than were uploaded

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "storage.test":
            return self.storage(request)
        return self.api(request)

    def api_calls(self) -> List[Tuple[str, str]]:
        return [(r.method, r.url.path) for r in self.requests if r.url.host == "api.test"]

    def storage_calls(self) -> List[httpx.Request]:
        return [r for r in self.requests if r.url.host == "storage.test"]

    def api(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        body = json.loads(request.content) if request.content else {}
        if request.method == "POST" and parts == ["files", "upload-url"]:
            file_id = f"file_{len(self.files) + 1}"
            self.files[file_id] = {
                "fileId": file_id,
                "teamId": "team_1",
                "fileName": body["fileName"],
                "fileSize": body["fileSize"],
                "fileHash": body.get("fileHash"),
                "mimeType": body.get("mimeType", "application/octet-stream"),
                "uploadStatus": "pending",
                "metadata": body.get("metadata", {}),
                "createdAt": STAMP,
                "updatedAt": STAMP,
            }
            url = f"{STORAGE}/objects/{file_id}?signature=abc"
            return httpx.Response(201, json={"file": self.files[file_id], "uploadUrl": url})
        file = self.files.get(parts[1]) if len(parts) > 1 else None
        if file is None:
            return httpx.Response(404, json={"error": {"message": "File not found"}})
        if request.method == "GET" and len(parts) == 2:
            return httpx.Response(200, json=file)
        if request.method == "DELETE" and len(parts) == 2:
            del self.files[parts[1]]
            return httpx.Response(204)
        if request.method == "POST" and parts[2:] == ["complete"]:
            data = self.objects.get(file["fileId"], b"")
            if hashlib.sha256(data).hexdigest() != body["fileHash"]:
                file["uploadStatus"] = "failed"
                details = [{"field": "fileHash", "message": "does not match the stored bytes"}]
                return httpx.Response(
                    400, json={"error": {"message": "hash mismatch"}, "details": details}
                )
            file["uploadStatus"] = "completed"
            return httpx.Response(200, json=file)
        if request.method == "GET" and parts[2:] == ["download"]:
            if file["uploadStatus"] != "completed":
                details = [{"field": "file", "message": "upload not completed"}]
                return httpx.Response(
                    400, json={"error": {"message": "not completed"}, "details": details}
                )
            url = f"{STORAGE}/objects/{file['fileId']}?signature=def"
            return httpx.Response(200, json={"downloadUrl": url, "expiresAt": STAMP})
        return httpx.Response(405)

    def storage(self, request: httpx.Request) -> httpx.Response:
        key = request.url.path.rsplit("/", 1)[-1]
        faults = self.faults[request.method]
        fault = faults.pop(0) if faults else None
        if isinstance(fault, Exception):
            raise fault
        if isinstance(fault, int):
            xml = f"<Error><Code>Fault</Code><Message>injected {fault}</Message></Error>"
            return httpx.Response(fault, text=xml)
        if request.method == "PUT":
            self.puts.append(request.content)
            self.objects[key] = request.content
            return httpx.Response(200)
        data = self.objects[key]
        if self.tamper:
            data = data[::-1]
        headers = {"Content-Length": str(len(data))}
        if fault == "cut":
            return httpx.Response(200, headers=headers, stream=BrokenStream(data[: len(data) // 2]))
        return httpx.Response(200, headers=headers, content=data)


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


def client_for(platform: FakePlatform, **options: Any) -> AsyncModeratelyAI:
    http = options.pop("http", None) or httpx.AsyncClient(transport=httpx.MockTransport(platform))
    return AsyncModeratelyAI(
        api_key="test-key", team_id="team_1", base_url=API, http_client=http, **options
    )


DATA = bytes(range(256)) * 5000  # 1.2 MiB: more than one chunk


async def test_upload_flow_on_the_wire(platform: FakePlatform) -> None:
    async with client_for(platform) as client:
        file = await client.files.upload(DATA, name="table.csv", metadata={"k": "v"})
    assert isinstance(file, FileAsyncModel) and file.is_ready()
    assert platform.api_calls() == [
        ("POST", "/files/upload-url"),
        ("POST", f"/files/{file.file_id}/complete"),
    ]
    create, complete = (r for r in platform.requests if r.url.host == "api.test")
    digest = hashlib.sha256(DATA).hexdigest()
    assert json.loads(create.content) == {
        "fileName": "table.csv",
        "fileSize": len(DATA),
        "fileHash": digest,
        "mimeType": "text/csv",
        "teamId": "team_1",
        "metadata": {"k": "v"},
        "signChecksum": True,
    }
    assert json.loads(complete.content) == {"fileSize": len(DATA), "fileHash": digest}
    assert platform.objects[file.file_id] == DATA


async def test_storage_requests_carry_no_api_credentials(platform: FakePlatform) -> None:
    http = httpx.AsyncClient(
        transport=httpx.MockTransport(platform),
        headers={"X-Client-Secret": "s3cr3t"},
        auth=("user", "password"),
        cookies={"session": "abc"},
    )
    async with client_for(platform, http=http, default_headers={"X-Team": "t"}) as client:
        file = await client.files.upload(b"hello", name="a.txt")
        assert await client.files.download(file.file_id) == b"hello"
    await http.aclose()
    put, get = platform.storage_calls()
    for request in (put, get):
        names = {name.lower() for name in request.headers}
        assert not names & {"authorization", "x-client-secret", "x-team", "cookie", "user-agent"}
        assert "test-key" not in str(request.headers)
    assert put.headers["Content-Length"] == "5"
    assert put.headers["Content-Type"] == "text/plain"
    assert "transfer-encoding" not in {name.lower() for name in put.headers}


async def test_upload_headers_from_the_server_are_sent(platform: FakePlatform) -> None:
    answer = platform.api

    def with_headers(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        if request.url.path == "/files/upload-url":
            body = response.json()
            body["uploadHeaders"] = {"x-amz-checksum-sha256": "abc="}
            return httpx.Response(201, json=body)
        return response

    platform.api = with_headers  # type: ignore[method-assign]
    async with client_for(platform) as client:
        await client.files.upload(b"hello")
    (put,) = platform.storage_calls()
    assert put.headers["x-amz-checksum-sha256"] == "abc="


async def test_put_503_then_success_resends_the_whole_body(
    platform: FakePlatform, sleeps: List[float]
) -> None:
    platform.faults["PUT"] = [503]
    progress: List[Tuple[int, int]] = []
    async with client_for(platform) as client:
        file = await client.files.upload(
            io.BytesIO(DATA), progress=lambda done, total: progress.append((done, total))
        )
    puts = platform.storage_calls()
    assert len(puts) == 2 and len(sleeps) == 1
    assert platform.puts == [DATA]  # the MockTransport read the failed attempt too
    assert all(r.content == DATA for r in puts)
    assert file.is_ready()
    assert progress[-1] == (len(DATA), len(DATA))
    assert progress.count((0, len(DATA))) == 2  # the retry counted again from 0


async def test_put_connection_drop_then_success(
    platform: FakePlatform, sleeps: List[float], tmp_path: Path
) -> None:
    platform.faults["PUT"] = [httpx.WriteError("broken pipe"), httpx.RemoteProtocolError("eof")]
    source = tmp_path / "data.bin"
    source.write_bytes(DATA)
    async with client_for(platform) as client:
        file = await client.files.upload(source)
    assert len(platform.storage_calls()) == 3 and len(sleeps) == 2
    assert platform.objects[file.file_id] == DATA


async def test_put_403_is_not_retried_and_leaves_no_pending_file(
    platform: FakePlatform, sleeps: List[float]
) -> None:
    platform.faults["PUT"] = [403]
    async with client_for(platform) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            await client.files.upload(DATA, name="x.bin")
    message = str(caught.value)
    assert "refused the presigned upload URL" in message and "injected 403" in message
    assert caught.value.status_code == 403
    assert len(platform.storage_calls()) == 1 and sleeps == []
    assert platform.api_calls()[-1] == ("DELETE", "/files/file_1")
    assert platform.files == {}


async def test_put_failing_every_time_raises_timeout_and_cleans_up(
    platform: FakePlatform, sleeps: List[float]
) -> None:
    platform.faults["PUT"] = [httpx.ConnectError("refused")] * 4
    async with client_for(platform) as client:
        with pytest.raises(TimeoutError, match="presigned upload failed after 4 attempt"):
            await client.files.upload(DATA)
    assert len(sleeps) == 3
    assert ("POST", "/files/file_1/complete") not in platform.api_calls()
    assert platform.files == {}


async def test_put_5xx_every_time_raises_the_storage_error(
    platform: FakePlatform, sleeps: List[float]
) -> None:
    platform.faults["PUT"] = [500, 502]
    async with client_for(platform, max_retries=1) as client:
        with pytest.raises(APIError, match=r"presigned upload failed \(HTTP 502"):
            await client.files.upload(DATA)
    assert len(sleeps) == 1


async def test_get_connection_reset_then_success(
    platform: FakePlatform, sleeps: List[float], tmp_path: Path
) -> None:
    async with client_for(platform) as client:
        file = await client.files.upload(DATA)
        platform.faults["GET"] = ["cut", "cut"]
        target = tmp_path / "out" / "copy.bin"
        seen: List[Tuple[int, int]] = []
        result = await client.files.download(
            file.file_id, path=target, progress=lambda d, t: seen.append((d, t))
        )
        assert result is None
        platform.faults["GET"] = ["cut"]
        in_memory = await client.files.download(file.file_id)
    assert target.read_bytes() == DATA and in_memory == DATA
    assert len(sleeps) == 3
    assert seen[-1] == (len(DATA), len(DATA))
    assert list(target.parent.iterdir()) == [target]  # no temporary file left


async def test_get_503_is_retried_and_403_is_not(
    platform: FakePlatform, sleeps: List[float]
) -> None:
    async with client_for(platform) as client:
        file = await client.files.upload(b"abc")
        platform.faults["GET"] = [503]
        assert await client.files.download(file.file_id) == b"abc"
        assert len(sleeps) == 1
        platform.faults["GET"] = [403]
        with pytest.raises(PermissionDeniedError, match="refused the presigned download URL"):
            await client.files.download(file.file_id)
    assert len(sleeps) == 1


async def test_download_of_other_bytes_is_refused_and_nothing_is_kept(
    platform: FakePlatform, tmp_path: Path
) -> None:
    async with client_for(platform) as client:
        file = await client.files.upload(DATA)
        platform.tamper = True
        target = tmp_path / "copy.bin"
        with pytest.raises(APIError, match="is corrupt: their SHA-256"):
            await client.files.download(file.file_id, path=target)
        with pytest.raises(APIError, match="is corrupt"):
            await file.download()
    assert list(tmp_path.iterdir()) == []


async def test_download_asks_for_the_hash_only_when_it_does_not_know_it(
    platform: FakePlatform,
) -> None:
    async with client_for(platform) as client:
        file = await client.files.upload(b"abc")
        before = len(platform.api_calls())
        await file.download()
        assert len(platform.api_calls()) - before == 1  # the model knows its hash
        await client.files.download(file.file_id)
        assert platform.api_calls()[-2:] == [
            ("GET", f"/files/{file.file_id}/download"),
            ("GET", f"/files/{file.file_id}"),
        ]


async def test_download_errors_from_the_api(platform: FakePlatform, tmp_path: Path) -> None:
    async with client_for(platform) as client:
        with pytest.raises(NotFoundError):
            await client.files.download("file_404", path=tmp_path / "x")
        created = await client.files.get_upload_url(filename="a.txt", file_size=3)
        with pytest.raises(ValidationError, match="not completed"):
            await client.files.download(created["file"]["fileId"], path=tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


async def test_wrong_hash_at_complete_is_a_validation_error(platform: FakePlatform) -> None:
    original = platform.storage

    def corrupt(request: httpx.Request) -> httpx.Response:
        response = original(request)
        if request.method == "PUT":
            key = request.url.path.rsplit("/", 1)[-1]
            platform.objects[key] = b"other bytes"
        return response

    platform.storage = corrupt  # type: ignore[method-assign]
    async with client_for(platform) as client:
        with pytest.raises(ValidationError, match="hash mismatch") as caught:
            await client.files.upload(b"hello")
    assert caught.value.validation_details[0]["field"] == "fileHash"
    assert platform.files["file_1"]["uploadStatus"] == "failed"


async def test_missing_path_raises_before_any_request(
    platform: FakePlatform, tmp_path: Path
) -> None:
    async with client_for(platform) as client:
        with pytest.raises(FileNotFoundError):
            await client.files.upload(tmp_path / "nope.csv")
        with pytest.raises(ValueError, match="No such file"):
            await client.files.upload(str(tmp_path / "nope.csv"))
        with pytest.raises(ValueError, match="is a directory"):
            await client.files.upload(tmp_path)
        with pytest.raises(ValueError, match="needs a file"):
            await client.files.upload()
        with pytest.raises(ValueError, match="Cannot upload a int"):
            await client.files.upload(42)
        with pytest.raises(TypeError, match="not both"):
            await client.files.upload(b"x", file_path="y")
    assert platform.requests == []


async def test_file_changed_between_hash_and_put(platform: FakePlatform, tmp_path: Path) -> None:
    source = tmp_path / "grows.txt"
    source.write_bytes(b"12345")
    original = platform.api

    def append_after_upload_url(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/files/upload-url":
            with source.open("ab") as f:
                f.write(b"678")
        return original(request)

    platform.api = append_after_upload_url  # type: ignore[method-assign]
    async with client_for(platform) as client:
        with pytest.raises(ValueError, match="changed while it was being uploaded"):
            await client.files.upload(source)
    assert platform.files == {}  # the pending file was removed


class ChunkedReader:
    """A non-seekable reader (a pipe, a socket): spooled before the upload."""

    def __init__(self, data: bytes, name: Optional[str] = None) -> None:
        self._stream = io.BytesIO(data)
        if name is not None:
            self.name = name

    async def read(self, size: int = -1) -> bytes:
        return self._stream.read(min(size, 1000))


async def test_stream_is_spooled_and_resent_on_retry(
    platform: FakePlatform, sleeps: List[float]
) -> None:
    platform.faults["PUT"] = [502]
    async with client_for(platform) as client:
        file = await client.files.upload(ChunkedReader(DATA, name="/tmp/report.pdf"))
    assert file.name == "report.pdf"
    assert platform.puts == [DATA] and len(platform.storage_calls()) == 2


async def test_seekable_object_is_read_from_its_position(platform: FakePlatform) -> None:
    stream = io.BytesIO(b"HEADER" + DATA)
    stream.seek(6)
    async with client_for(platform) as client:
        file = await client.files.upload(stream, name="data.bin")
    assert platform.objects[file.file_id] == DATA
    assert file.file_size == len(DATA)


async def test_a_known_hash_is_trusted_and_checked_by_the_server(
    platform: FakePlatform, tmp_path: Path
) -> None:
    source = tmp_path / "known.csv"
    source.write_bytes(CSV_BYTES)
    digest = hashlib.sha256(CSV_BYTES).hexdigest()
    async with client_for(platform) as client:
        file = await client.files.upload(source, file_hash="sha256:" + digest.upper())
        assert file.is_ready() and file.mime_type == "text/csv"
        create = next(r for r in platform.requests if r.url.path == "/files/upload-url")
        assert json.loads(create.content)["fileHash"] == digest
        assert json.loads(create.content)["fileSize"] == len(CSV_BYTES)
        with pytest.raises(ValidationError, match="hash mismatch"):
            await client.files.upload(io.BytesIO(CSV_BYTES), file_hash="0" * 64)
        calls = len(platform.requests)
        with pytest.raises(ValueError, match="file_hash must be a SHA-256"):
            await client.files.upload(source, file_hash="abc")
    assert len(platform.requests) == calls


CSV_BYTES = b"a,b\n1,2\n3,4\n"

"""Files against the real server, on both stores: local disk (server-signed URLs) and S3
(SeaweedFS). Faults are injected by a transport that wraps the real one."""

import hashlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, List, Optional, Tuple
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from moderatelyai_sdk import (
    APIError,
    AsyncModeratelyAI,
    AsyncPage,
    FileAsyncModel,
    NotFoundError,
    PermissionDeniedError,
    TimeoutError,
    ValidationError,
)
from moderatelyai_sdk._files import CHUNK_SIZE

pytestmark = pytest.mark.anyio

CSV = b"id,name,amount\n1,Ada,3.5\n2,Grace,4\n"
PDF = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


def connect(credentials: Any, **overrides: Any) -> AsyncModeratelyAI:
    options = {
        "api_key": credentials.api_key,
        "team_id": credentials.team_id,
        "base_url": credentials.base_url,
        **overrides,
    }
    return AsyncModeratelyAI(**options)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_storage(request: httpx.Request) -> bool:
    # The SDK never sends its API key to a presigned URL: that is how the two are told apart.
    return "authorization" not in request.headers


class Faults(httpx.AsyncBaseTransport):
    """The real transport, with a hook on storage requests; records every request."""

    def __init__(self, on_storage: Optional[Callable[..., Any]] = None) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.on_storage = on_storage
        self.requests: List[httpx.Request] = []

    def storage(self, method: str) -> List[httpx.Request]:
        return [r for r in self.requests if is_storage(r) and r.method == method]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.on_storage is not None and is_storage(request):
            replaced = await self.on_storage(request)
            if replaced is not None:
                request = replaced
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def tampered(request: httpx.Request) -> httpx.Request:
    """The same request to a URL whose signed part was altered (last character of the local
    store's token, or of S3's X-Amz-Signature)."""
    parts = urlsplit(str(request.url))
    if parts.query:
        query = parts.query[:-1] + ("0" if parts.query[-1] != "0" else "1")
        url = urlunsplit(parts._replace(query=query))
    else:
        path = parts.path[:-1] + ("0" if parts.path[-1] != "0" else "1")
        url = urlunsplit(parts._replace(path=path))
    return httpx.Request(
        request.method,
        url,
        headers=request.headers,
        stream=request.stream,
        extensions=request.extensions,
    )


# --- upload sources, names, types -------------------------------------------------------------


async def test_upload_a_path_then_read_it_back(fresh: Any, tmp_path: Path) -> None:
    source = tmp_path / "report.csv"
    source.write_bytes(CSV)
    async with connect(fresh) as client:
        file = await client.files.upload(source, metadata={"quarter": "Q1"})
        assert isinstance(file, FileAsyncModel)
        assert file.is_ready() and not file.is_processing() and not file.has_error()
        assert (file.name, file.mime_type, file.file_size) == ("report.csv", "text/csv", len(CSV))
        assert file.file_hash is not None and file.file_hash.lower().endswith(sha256(CSV))
        assert file.metadata == {"quarter": "Q1"}
        assert file.team_id == fresh.team_id and file["uploadStatus"] == "completed"
        assert file.is_csv() and file.is_text() and not file.is_image() and not file.is_document()
        assert file.get_extension() == ".csv"
        assert file.created_at and file.updated_at
        assert await file.download() == CSV
        assert await client.files.download(file.file_id) == CSV
        target = tmp_path / "out" / "nested" / "copy.csv"
        assert await file.download(path=target) is None
        again = await client.files.retrieve(file.file_id)
    assert target.read_bytes() == CSV
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.csv"]  # no temporary left
    assert again.to_dict() == file.to_dict()


class AsyncReader:
    """An object with ``async def read(n)`` (a sync reader in the generated sync tests)."""

    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)

    async def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


async def test_every_kind_of_source(fresh: Any, tmp_path: Path) -> None:
    disk = tmp_path / "notes.txt"
    disk.write_bytes(b"plain text notes\n")
    named = io.BytesIO(CSV)
    named.name = "/somewhere/table.csv"  # type: ignore[attr-defined]
    async with connect(fresh) as client:
        with disk.open("rb") as handle:
            from_handle = await client.files.upload(handle)
        cases = [
            (await client.files.upload(b"raw bytes"), "uploaded_file", b"raw bytes"),
            (await client.files.upload(bytearray(CSV), name="b.csv"), "b.csv", CSV),
            (await client.files.upload(memoryview(PDF)), "uploaded_file", PDF),
            (await client.files.upload(named), "table.csv", CSV),
            (from_handle, "notes.txt", b"plain text notes\n"),
            (await client.files.upload(AsyncReader(PDF), name="r.pdf"), "r.pdf", PDF),
            (await client.files.upload(file_path=str(disk), name="Notes"), "Notes.txt", None),
        ]
        for file, name, data in cases:
            assert file.name == name and file.is_ready()
            expected = data if data is not None else disk.read_bytes()
            assert await file.download() == expected, name
    assert cases[0][0].mime_type == "text/plain"  # sniffed: no extension, printable bytes
    assert cases[2][0].mime_type == "application/pdf" and cases[2][0].is_document()


async def test_names_types_and_the_mime_override(fresh: Any, tmp_path: Path) -> None:
    source = tmp_path / "data.txt"
    source.write_bytes(b"hello")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    async with connect(fresh) as client:
        kept = await client.files.upload(source, name="Sample Data File.txt")
        appended = await client.files.upload(source, name="Sample Data File")
        image = await client.files.upload(png)
        forced = await client.files.upload(b"{}", name="x", mime_type="application/json")
    assert (kept.name, appended.name) == ("Sample Data File.txt", "Sample Data File.txt")
    assert image.mime_type == "image/png" and image.is_image() and image.get_extension() == ""
    assert forced.mime_type == "application/json"


async def test_zero_byte_file_and_empty_bytes_round_trip(fresh: Any, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    async with connect(fresh) as client:
        on_disk = await client.files.upload(empty)
        in_memory = await client.files.upload(b"")
        for file in (on_disk, in_memory):
            assert file.is_ready() and file.file_size == 0
            assert file.file_hash is not None and file.file_hash.endswith(sha256(b""))
            assert await file.download() == b""
        target = tmp_path / "back.csv"
        await on_disk.download(path=target)
    assert on_disk.mime_type == "text/csv"
    assert in_memory.mime_type == "application/octet-stream"
    assert target.read_bytes() == b""


async def test_progress_reports_every_byte(fresh: Any) -> None:
    data = os.urandom(9 * 1024 * 1024 + 123)  # more than two chunks
    sent: List[Tuple[int, int]] = []
    received: List[Tuple[int, int]] = []
    async with connect(fresh) as client:
        file = await client.files.upload(data, progress=lambda d, t: sent.append((d, t)))
        back = await file.download(progress=lambda d, t: received.append((d, t)))
    assert back == data
    for calls in (sent, received):
        assert calls[0] == (0, len(data)) and calls[-1] == (len(data), len(data))
        done = [d for d, _ in calls]
        assert done == sorted(done)


async def test_sizes_at_the_chunk_boundaries_hash_and_round_trip(
    fresh: Any, tmp_path: Path
) -> None:
    """The hash pass and the PUT read a path in chunks through two buffers (read-ahead): a size
    one short of, equal to and one past a chunk, and past two, hash and arrive byte for byte."""
    chunk = CHUNK_SIZE
    async with connect(fresh) as client:
        for size in (chunk - 1, chunk, chunk + 1, 2 * chunk + 1):
            data = os.urandom(size)
            path = tmp_path / f"edge-{size}.bin"
            path.write_bytes(data)
            file = await client.files.upload(path)
            assert file.file_size == size and file.is_ready()
            assert file.file_hash is not None and file.file_hash.lower().endswith(sha256(data))
            assert await file.download() == data


async def test_a_retried_path_upload_sends_the_whole_file_again(
    fresh: Any, tmp_path: Path, sleeps: List[float]
) -> None:
    """The first PUT is cut after one chunk, while the next is being read ahead; the retry
    rewinds the file and sends every byte from the first one."""
    data = os.urandom(2 * CHUNK_SIZE + 5)
    path = tmp_path / "retried.bin"
    path.write_bytes(data)
    cuts: List[int] = []

    async def cut_the_first_put(request: httpx.Request) -> None:
        if request.method == "PUT" and not cuts:
            async for piece in request.stream:  # type: ignore[union-attr]
                cuts.append(len(piece))
                break
            raise httpx.WriteError("connection reset by peer", request=request)

    transport = Faults(cut_the_first_put)
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http, max_retries=2) as client:
        file = await client.files.upload(path)
        assert cuts == [CHUNK_SIZE] and len(transport.storage("PUT")) == 2 and len(sleeps) == 1
        assert file.is_ready() and await file.download() == data
    await http.aclose()


# --- listing, duplicates, update, delete -------------------------------------------------------


async def test_list_filters_and_pages(fresh: Any) -> None:
    async with connect(fresh) as client:
        csv = await client.files.upload(CSV, name="a.csv")
        txt = await client.files.upload(b"text", name="b.txt")
        pdf = await client.files.upload(PDF, name="c.pdf")
        pending = await client.files.get_upload_url(filename="d.bin", file_size=10)

        first = await client.files.list(page_size=2)
        assert isinstance(first, AsyncPage) and len(first["items"]) == 2
        assert first["pagination"]["totalItems"] == 4 and first.has_next_page()
        every = [f.file_id async for f in first.auto_paging_iter()]
        ids = {pending["file"]["fileId"], pdf.file_id, txt.file_id, csv.file_id}
        assert len(every) == 4 and set(every) == ids

        by_name = await client.files.list(order_by="name", order_direction="asc")
        assert [f.name for f in by_name["items"]] == ["a.csv", "b.txt", "c.pdf", "d.bin"]
        assert [f.file_id for f in (await client.files.list(mime_type="text/csv"))["items"]] == [
            csv.file_id
        ]
        ready = await client.files.list(status="ready")
        assert {f.file_id for f in ready["items"]} == {csv.file_id, txt.file_id, pdf.file_id}
        waiting = await client.files.list(status="processing")
        assert [f.file_id for f in waiting["items"]] == [pending["file"]["fileId"]]
        assert waiting["items"][0].is_processing()
        assert (await client.files.list(status="error"))["items"] == []


async def test_list_by_hash_finds_the_duplicate_before_uploading(fresh: Any) -> None:
    async with connect(fresh) as client:
        original = await client.files.upload(CSV, name="orders.csv")
        digest = sha256(CSV)  # what a caller computes before uploading again
        found = await client.files.list(file_hashes=digest)
        assert [f.file_id for f in found["items"]] == [original.file_id]
        prefixed = await client.files.list(file_hashes="sha256:" + digest.upper())
        assert [f.file_id for f in prefixed["items"]] == [original.file_id]
        several = await client.files.list(file_hashes=[sha256(b"other"), digest])
        assert [f.file_id for f in several["items"]] == [original.file_id]
        assert (await client.files.list(file_hashes=sha256(b"nope")))["items"] == []
        # The hash computed for the lookup spares the upload its own hashing pass.
        other = b"id,name\n3,Edsger\n"
        assert (await client.files.list(file_hashes=sha256(other)))["items"] == []
        copy = await client.files.upload(other, name="more.csv", file_hash=sha256(other))
        assert copy.is_ready() and await copy.download() == other


async def test_a_wrong_known_hash_is_refused_by_the_store(fresh: Any) -> None:
    async with connect(fresh) as client:
        with pytest.raises(APIError) as caught:
            await client.files.upload(CSV, name="x.csv", file_hash=sha256(b"not these bytes"))
        assert caught.value.status_code == 400
        assert "presigned upload failed" in caught.value.message
        assert (await client.files.list())["items"] == []


async def test_update_refresh_and_delete(fresh: Any) -> None:
    async with connect(fresh) as client:
        file = await client.files.upload(CSV, name="old.csv", metadata={"v": 1})
        updated = await client.files.update(file.file_id, name="new.csv", metadata={"v": 2})
        assert (updated.name, updated.metadata) == ("new.csv", {"v": 2})
        assert updated.file_hash == file.file_hash and updated.file_size == file.file_size
        same = await file.refresh()
        assert same is file and file.name == "new.csv"
        await file.delete()
        with pytest.raises(NotFoundError):
            await client.files.retrieve(file.file_id)
        with pytest.raises(NotFoundError):
            await client.files.download(file.file_id)
        with pytest.raises(NotFoundError):
            await client.files.delete(file.file_id)
        assert (await client.files.list())["items"] == []


# --- bad input and faults ------------------------------------------------------------------------


async def test_missing_path_raises_before_any_request(fresh: Any, tmp_path: Path) -> None:
    transport = Faults()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        with pytest.raises(FileNotFoundError):
            await client.files.upload(tmp_path / "missing.pdf")
        with pytest.raises(ValueError):
            await client.files.upload(file_path=str(tmp_path / "missing.pdf"))
    await http.aclose()
    assert transport.requests == []


async def test_wrong_hash_at_complete_fails_the_file(fresh: Any) -> None:
    data = b"the real bytes"
    async with connect(fresh) as client:
        created = await client.files.get_upload_url(
            filename="x.txt", file_size=len(data), mime_type="text/plain"
        )
        file_id = created["file"]["fileId"]
        headers = {"Content-Type": created["file"]["mimeType"], **created.get("uploadHeaders", {})}
        async with httpx.AsyncClient() as raw:
            put = await raw.put(created["uploadUrl"], content=data, headers=headers)
        assert put.status_code == 200, put.text
        with pytest.raises(ValidationError) as caught:
            await client.files.complete(  # the complete step, on its own
                file_id, file_size=len(data), file_hash=sha256(b"other bytes")
            )
        assert caught.value.status_code == 400 and caught.value.message != "HTTP 400"
        failed = await client.files.retrieve(file_id)
        assert failed.status == "failed" and failed.has_error() and not failed.is_ready()
        with pytest.raises(ValidationError):
            await failed.download()


async def test_upload_steps_by_hand(fresh: Any) -> None:
    async with connect(fresh) as client:
        created = await client.files.get_upload_url(
            filename="hand.csv", file_size=len(CSV), mime_type="text/csv", file_hash=sha256(CSV)
        )
        headers = {"Content-Type": created["file"]["mimeType"], **created.get("uploadHeaders", {})}
        async with httpx.AsyncClient() as raw:
            put = await raw.put(created["uploadUrl"], content=CSV, headers=headers)
        assert put.status_code == 200, put.text
        done = await client.files.complete(
            created["file"]["fileId"], file_size=len(CSV), file_hash=sha256(CSV)
        )
        assert isinstance(done, FileAsyncModel) and done.is_ready()
        assert done.file_hash == sha256(CSV) and await done.download() == CSV


async def test_request_options_reach_every_api_request_of_a_transfer(
    fresh: Any, tmp_path: Path
) -> None:
    transport = Faults()
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        file = await client.files.upload(
            CSV,
            name="o.csv",
            timeout=20,
            max_retries=1,
            extra_headers={"X-Trace": "up"},
            idempotency_key="upload-o-csv",
        )
        api = [r for r in transport.requests if not is_storage(r)]
        assert [r.url.path for r in api] == ["/files/upload-url", f"/files/{file.file_id}/complete"]
        assert [r.headers["x-trace"] for r in api] == ["up", "up"]
        # The key names the first POST; the complete gets one of its own.
        keys = [r.headers["idempotency-key"] for r in api]
        assert keys[0] == "upload-o-csv" and keys[1] != keys[0]
        (put,) = transport.storage("PUT")
        assert "x-trace" not in put.headers and put.extensions["timeout"]["read"] == 20
        transport.requests.clear()
        target = tmp_path / "o.csv"
        await client.files.download(file.file_id, path=target, extra_headers={"X-Trace": "down"})
        (lookup,) = [r for r in transport.requests if not is_storage(r)]
        assert lookup.headers["x-trace"] == "down" and lookup.content == b""
        (get,) = transport.storage("GET")
        assert "x-trace" not in get.headers
        assert target.read_bytes() == CSV
        page = await client.files.list(extra_query={"mimeTypes": "text/csv"}, timeout=10)
        assert [f.file_id for f in page.data] == [file.file_id]
        assert [f.file_id async for f in client.files.list(page_size=1)] == [file.file_id]
        await client.files.delete(file.file_id, max_retries=0)
    await http.aclose()


async def test_interrupted_upload_leaves_nothing(fresh: Any, sleeps: List[float]) -> None:
    async def drop_mid_body(request: httpx.Request) -> None:
        if request.method == "PUT":
            async for _ in request.stream:  # type: ignore[union-attr]
                break  # one chunk went out, then the connection is lost
            raise httpx.WriteError("connection reset by peer", request=request)

    transport = Faults(drop_mid_body)
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http, max_retries=2) as client:
        with pytest.raises(TimeoutError, match="presigned upload failed after 3 attempt"):
            await client.files.upload(os.urandom(5 * 1024 * 1024), name="big.bin")
        assert len(transport.storage("PUT")) == 3 and len(sleeps) == 2
        assert (await client.files.list())["items"] == []
    await http.aclose()


async def test_tampered_upload_url_is_refused_without_retry(
    fresh: Any, sleeps: List[float]
) -> None:
    async def tamper(request: httpx.Request) -> httpx.Request:
        return tampered(request)

    transport = Faults(tamper)
    http = httpx.AsyncClient(transport=transport)
    async with connect(fresh, http_client=http) as client:
        with pytest.raises(PermissionDeniedError) as caught:
            await client.files.upload(CSV, name="t.csv")
        assert "refused the presigned upload URL" in str(caught.value)
        assert len(transport.storage("PUT")) == 1 and sleeps == []
        assert (await client.files.list())["items"] == []
    await http.aclose()


async def test_tampered_download_url_is_refused(fresh: Any, tmp_path: Path) -> None:
    async with connect(fresh) as client:
        file = await client.files.upload(CSV, name="t.csv")

    async def tamper(request: httpx.Request) -> Optional[httpx.Request]:
        return tampered(request) if request.method == "GET" else None

    transport = Faults(tamper)
    http = httpx.AsyncClient(transport=transport)
    target = tmp_path / "t.csv"
    async with connect(fresh, http_client=http) as client:
        with pytest.raises(PermissionDeniedError, match="refused the presigned download URL"):
            await client.files.download(file.file_id, path=target)
    await http.aclose()
    assert list(tmp_path.iterdir()) == []


async def test_download_of_a_pending_file_is_a_validation_error(fresh: Any, tmp_path: Path) -> None:
    async with connect(fresh) as client:
        created = await client.files.get_upload_url(
            filename="later.csv", file_size=3, mime_type="text/csv", metadata={"k": 1}
        )
        assert created["file"]["uploadStatus"] == "pending" and created["uploadUrl"]
        assert created["file"]["metadata"] == {"k": 1}
        with pytest.raises(ValidationError):
            await client.files.download(created["file"]["fileId"], path=tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []


async def test_another_teams_file_is_not_found(fresh: Any, outsider: Any, tmp_path: Path) -> None:
    async with connect(outsider) as owner:
        theirs = await owner.files.upload(CSV, name="private.csv")
    async with connect(fresh) as client:
        calls: List[Callable[[], Any]] = [
            lambda: client.files.retrieve(theirs.file_id),
            lambda: client.files.update(theirs.file_id, name="mine.csv"),
            lambda: client.files.download(theirs.file_id),
            lambda: client.files.download(theirs.file_id, path=tmp_path / "x"),
            lambda: client.files.delete(theirs.file_id),
        ]
        for call in calls:
            with pytest.raises(NotFoundError):
                await call()
        assert (await client.files.list(file_hashes=sha256(CSV)))["items"] == []
    async with connect(outsider) as owner:
        assert await owner.files.download(theirs.file_id) == CSV
    assert list(tmp_path.iterdir()) == []


# --- bounded memory ------------------------------------------------------------------------

PROBE = Path(__file__).resolve().parent.parent / "memory_probe.py"


async def test_peak_memory_stays_bounded(fresh: Any, tmp_path: Path) -> None:
    """Upload and download 256 MiB in a fresh interpreter; its peak RSS may grow < 64 MiB."""
    env = {
        **os.environ,
        "MODERATELY_API_KEY": fresh.api_key,
        "MODERATELY_TEAM_ID": fresh.team_id,
        "MODERATELY_BASE_URL": fresh.base_url,
    }
    command = [sys.executable, str(PROBE), AsyncModeratelyAI.__name__, str(tmp_path), "256"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["verified"]
    assert report["upload_mib"] < 64, report
    assert report["download_mib"] < 64, report

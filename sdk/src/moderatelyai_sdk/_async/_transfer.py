"""Presigned transfers: the only code that touches storage URLs.

Upload (api.md 6.1): the source is hashed in a first streamed pass (a non-seekable stream is
spooled to a temporary file on the way), ``POST /files/upload-url`` declares name, size, SHA-256
and MIME type, the bytes go to the URL in a second streamed pass, and ``POST /files/{id}/complete``
lets the server verify them. Download (api.md 6.2): ``GET /files/{id}/download`` for a URL, then
the bytes are streamed into memory or into a temporary file beside the target, hashed on the way,
checked against the file's ``fileHash`` and renamed into place. Dataset data versions (api.md
6.4, 6.5) go the same way through ``/dataset-data-versions``; a pipeline execution's output
stored in the object store (api.md 6.10) is fetched from the URL ``GET .../output`` gives.

Transfers go through the client's own ``httpx`` client (its connection pool, timeouts, proxies)
but never with its headers or auth: storage URLs carry their own signature and must not see the
API key. They follow the client's retry policy (attempts, backoff): a connection error or a 5xx
repeats the request with the body re-sent from its first byte; a 403 (expired or altered URL) and
any other 4xx do not. Memory stays at a few ``CHUNK_SIZE`` buffers whatever the file size.
"""

import contextlib
import errno
import hashlib
import inspect
import io
import os
import tempfile
import uuid
from pathlib import Path
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Dict,
    List,
    Optional,
    Tuple,
    Type,
    Union,
)

import httpx

from .. import _io_async
from .._base_client import RETRYABLE_TRANSPORT_ERRORS, make_body, path_param, retry_delay
from .._datasets import CONTENT_TYPES, DEFAULT_DATA_NAME, data_file_type
from .._exceptions import APIError, TimeoutError
from .._files import (
    CHUNK_SIZE,
    DEFAULT_UPLOAD_NAME,
    OCTET_STREAM,
    SNIFF_SIZE,
    MissingFileError,
    detect_mime_type,
    normalize_hash,
    storage_error,
    transfer_should_retry,
    upload_name,
)
from .._pipelines import decode_stored_output, inline_output, stored_output

if TYPE_CHECKING:
    from ._client import AsyncBaseClient

__all__ = [
    "ProgressCallback",
    "download_data_version",
    "download_file",
    "fetch_execution_output",
    "upload_data_version",
    "upload_file",
]

#: ``progress(bytes_done, total)`` after every chunk; ``total`` is -1 when unknown. A retried
#: transfer starts counting again from 0.
ProgressCallback = Callable[[int, int], object]


class _ServerError(Exception):
    """A storage answer worth repeating (5xx); ``error`` is raised if no attempt is left."""

    def __init__(self, response: httpx.Response, error: APIError) -> None:
        super().__init__(error.message)
        self.response = response
        self.error = error


_RETRYABLE: Tuple[Type[Exception], ...] = (_ServerError, *RETRYABLE_TRANSPORT_ERRORS)


async def _wait_or_raise(
    client: "AsyncBaseClient", attempt: int, exc: Exception, action: str
) -> None:
    """Sleep before attempt ``attempt + 1`` of a transfer, or raise when none is left."""
    retry = client._retry
    response = exc.response if isinstance(exc, _ServerError) else None
    if attempt >= retry.max_retries:
        if isinstance(exc, _ServerError):
            raise exc.error from None
        raise TimeoutError(
            f"The presigned {action} failed after {attempt + 1} attempt(s): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    await _io_async.sleep(retry_delay(attempt, response, retry))


def _report(progress: Optional[ProgressCallback], done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


def _storage_request(
    client: "AsyncBaseClient", method: str, url: str, **kwargs: Any
) -> httpx.Request:
    # Built directly, not with client.build_request: no default headers, cookies or base URL.
    return httpx.Request(method, url, extensions={"timeout": client._timeout.as_dict()}, **kwargs)


# --- upload sources -------------------------------------------------------------------------------


def _open_path(path: str) -> IO[bytes]:
    try:
        return open(path, "rb")  # closed by the source
    except FileNotFoundError:
        raise MissingFileError(errno.ENOENT, "No such file to upload", path) from None
    except IsADirectoryError:
        raise ValueError(f"{path!r} is a directory, not a file to upload") from None


def _as_bytes(chunk: Any) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode("utf-8")  # text-mode files and readers (0.2.7 did the same)
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk) if not isinstance(chunk, bytes) else chunk
    raise TypeError(f"read() returned {type(chunk).__name__}, expected bytes or str")


class _Digest:
    """Size, SHA-256 and first bytes of a stream, fed chunk by chunk."""

    def __init__(self) -> None:
        self.size = 0
        self.head = b""
        self._sha = hashlib.sha256()

    def update(self, chunk: Any) -> None:
        self._sha.update(chunk)
        if self.size < SNIFF_SIZE:
            self.head += bytes(chunk[: SNIFF_SIZE - self.size])
        self.size += len(chunk)

    def hexdigest(self) -> str:
        return self._sha.hexdigest()


def _digest_file(f: Any) -> _Digest:
    """Hash ``f`` from its position to its end (blocking)."""
    digest = _Digest()
    if isinstance(f, (io.BufferedIOBase, io.RawIOBase)):
        buffer = bytearray(CHUNK_SIZE)  # one buffer reused: no allocation per chunk
        view = memoryview(buffer)
        while count := f.readinto(buffer):
            digest.update(view[:count])
        return digest
    while chunk := _as_bytes(f.read(CHUNK_SIZE)):
        digest.update(chunk)
    return digest


def _measure_file(f: Any) -> _Digest:
    """Size and first bytes of ``f`` from its position, without reading it all (blocking)."""
    digest = _Digest()
    start = f.tell()
    digest.head = _as_bytes(f.read(SNIFF_SIZE))
    digest.size = f.seek(0, io.SEEK_END) - start
    f.seek(start)
    return digest


def _spool_chunk(spool: IO[bytes], digest: _Digest, chunk: bytes) -> None:
    digest.update(chunk)
    spool.write(chunk)


def _seekable(obj: Any) -> bool:
    """A blocking, binary object we can rewind (a text file is spooled, as encoding it again
    could give other bytes)."""
    read, seekable = obj.read, getattr(obj, "seekable", None)
    if isinstance(obj, io.TextIOBase) or _is_async(read) or not callable(seekable):
        return False
    if _is_async(seekable) or not callable(getattr(obj, "tell", None)):
        return False
    try:
        return seekable() is True
    except (OSError, ValueError):
        return False


def _is_async(function: Any) -> bool:
    return inspect.iscoroutinefunction(function)


# Sources of bytes to upload: ``name``, ``size``, ``sha256`` and ``head`` (first bytes) are known
# after ``prepare()``, before the first request; ``chunks()`` reads them from the first byte, as
# many times as attempts need. A hash the caller already knows (``file_hash=``) saves the hashing
# pass; the server still checks it.


class _BytesSource:
    def __init__(self, data: memoryview, name: str) -> None:
        self._data = data
        self.name = name
        self.size = len(data)
        self.sha256 = ""
        self.head = data[:SNIFF_SIZE].tobytes()

    async def prepare(self, known_hash: Optional[str]) -> None:
        if known_hash is not None:
            self.sha256 = known_hash
        else:
            self.sha256 = (await _io_async.run_blocking(hashlib.sha256, self._data)).hexdigest()

    async def chunks(self) -> AsyncIterator[bytes]:
        for start in range(0, self.size, CHUNK_SIZE):
            yield self._data[start : start + CHUNK_SIZE].tobytes()

    async def aclose(self) -> None:
        return None


class _FileSource:
    """A file: ours (a path, a spool) or the caller's (rewound to where it was given to us)."""

    def __init__(self, f: Any, name: str, *, owned: bool, digest: Optional[_Digest] = None) -> None:
        self._file = f
        self._owned = owned
        self._start = 0
        self._digest = digest  # known already when spooled
        self.name = name
        self.size = 0
        self.sha256 = ""
        self.head = b""

    async def prepare(self, known_hash: Optional[str]) -> None:
        self._start = await _io_async.run_blocking(self._file.tell)
        digest = self._digest
        if digest is None:
            measure = _measure_file if known_hash is not None else _digest_file
            digest = await _io_async.run_blocking(measure, self._file)
        self.size, self.head = digest.size, digest.head
        self.sha256 = known_hash if known_hash is not None else digest.hexdigest()

    async def chunks(self) -> AsyncIterator[bytes]:
        await _io_async.run_blocking(self._file.seek, self._start)
        sent = 0
        while True:
            chunk = _as_bytes(await _io_async.run_blocking(self._file.read, CHUNK_SIZE))
            if not chunk:
                break
            sent += len(chunk)
            if sent > self.size:
                break
            yield chunk
        if sent != self.size:
            raise ValueError(
                f"{self.name!r} changed while it was being uploaded ({self.size} bytes were "
                "measured); upload it again"
            )

    async def aclose(self) -> None:
        if self._owned:
            await _io_async.run_blocking(self._file.close)


async def _spool(reader: Any, name: str) -> _FileSource:
    """Copy a stream that cannot be rewound into an anonymous temporary file (bounded memory),
    hashing it on the way."""
    spool = await _io_async.run_blocking(tempfile.TemporaryFile)
    digest = _Digest()
    try:
        while True:
            chunk = _as_bytes(await _io_async.read(reader, CHUNK_SIZE))
            if not chunk:
                break
            await _io_async.run_blocking(_spool_chunk, spool, digest, chunk)
        await _io_async.run_blocking(spool.seek, 0)
    except BaseException:
        with _io_async.shield():
            await _io_async.run_blocking(spool.close)
        raise
    return _FileSource(spool, name, owned=True, digest=digest)


_Source = Union[_BytesSource, _FileSource]


async def _open_source(
    file: Any,
    name: Optional[str],
    known_hash: Optional[str],
    default_name: str = DEFAULT_UPLOAD_NAME,
) -> _Source:
    """Classify ``file`` and hash it; raises before any request for a missing path."""
    if isinstance(file, (str, os.PathLike)):
        path = os.fsdecode(file)
        f = await _io_async.run_blocking(_open_path, path)
        source: _Source = _FileSource(f, upload_name(name, path=path), owned=True)
    elif isinstance(file, (bytes, bytearray, memoryview)):
        source = _BytesSource(memoryview(file).cast("B"), upload_name(name, default=default_name))
    elif callable(getattr(file, "read", None)):
        label = upload_name(name, source_name=getattr(file, "name", None), default=default_name)
        seekable = _seekable(file)
        source = _FileSource(file, label, owned=False) if seekable else await _spool(file, label)
    else:
        raise ValueError(
            f"Cannot upload a {type(file).__name__}: pass a path (str or Path), bytes, or a "
            "binary file-like object with read()"
        )
    try:
        await source.prepare(known_hash)
    except BaseException:
        with _io_async.shield():
            await source.aclose()
        raise
    return source


# --- upload ---------------------------------------------------------------------------------------


async def _body(
    source: _Source, progress: Optional[ProgressCallback]
) -> AsyncGenerator[bytes, None]:
    done = 0
    _report(progress, 0, source.size)
    async for chunk in source.chunks():
        yield chunk
        done += len(chunk)
        _report(progress, done, source.size)


async def _put_once(
    client: "AsyncBaseClient",
    url: str,
    headers: Dict[str, str],
    source: _Source,
    progress: Optional[ProgressCallback],
) -> None:
    body = _body(source, progress)
    request = _storage_request(client, "PUT", url, headers=headers, content=body)
    try:
        response = await client._http.send(request, auth=None, follow_redirects=False)
    finally:
        await body.aclose()
    if response.is_success:
        return
    error = storage_error(response, "upload")
    if transfer_should_retry(response):
        raise _ServerError(response, error)
    raise error


async def _put(
    client: "AsyncBaseClient",
    url: str,
    headers: Dict[str, str],
    source: _Source,
    progress: Optional[ProgressCallback],
) -> None:
    attempt = 0
    while True:
        try:
            return await _put_once(client, url, headers, source, progress)
        except _RETRYABLE as exc:
            await _wait_or_raise(client, attempt, exc, "upload")
        attempt += 1


def _upload_target(
    created: Any, entity_key: str, id_key: str, action: str
) -> Tuple[Dict[str, Any], str, str, Dict[str, str]]:
    """The entity, its id, the URL and the signed extra headers from a create answer."""
    entity = created.get(entity_key) if isinstance(created, dict) else None
    url = created.get("uploadUrl") if isinstance(created, dict) else None
    if not isinstance(entity, dict) or not isinstance(url, str) or not entity.get(id_key):
        raise APIError(f"Unexpected answer to {action}: no {entity_key} or uploadUrl")
    extra = created.get("uploadHeaders")
    # Headers the URL's signature covers (e.g. an S3 checksum) must be sent as they are.
    signed = {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {}
    return entity, str(entity[id_key]), url, signed


def _known_hash(file_hash: Optional[str]) -> Optional[str]:
    known = normalize_hash(file_hash)
    if file_hash is not None and known is None:
        raise ValueError(f"file_hash must be a SHA-256 (64 hex characters), not {file_hash!r}")
    return known


async def upload_file(
    client: "AsyncBaseClient",
    file: Any,
    *,
    name: Optional[str],
    metadata: Optional[Dict[str, Any]],
    mime_type: Optional[str],
    file_hash: Optional[str],
    progress: Optional[ProgressCallback],
    extra: Dict[str, Any],
) -> Any:
    """The whole upload flow; returns the completed File as the server sent it."""
    source = await _open_source(file, name, _known_hash(file_hash))
    try:
        mime = mime_type or detect_mime_type(source.name, source.head)
        fields = {
            "fileName": source.name,
            "fileSize": source.size,
            "fileHash": source.sha256,
            "mimeType": mime,
            "teamId": client.team_id,
            "metadata": metadata or None,
            # The store itself then refuses other bytes (S3 checks x-amz-checksum-sha256), so
            # complete need not read the object back to verify it.
            "signChecksum": True,
        }
        action = "POST /files/upload-url"
        created = await client._request("POST", "/files/upload-url", body=make_body(fields, extra))
        entity, file_id, url, signed = _upload_target(created, "file", "fileId", action)
        # The store may have signed the Content-Type it recorded; send exactly that one.
        headers = {
            "Content-Type": str(entity.get("mimeType") or mime),
            "Content-Length": str(source.size),
            **signed,
        }
        path = f"/files/{path_param(file_id, 'file_id')}"
        try:
            await _put(client, url, headers, source, progress)
        except Exception:
            # Best effort: a failed upload leaves no pending file behind.
            with contextlib.suppress(Exception):
                await client.with_options(max_retries=0)._request("DELETE", path)
            raise
        body = {"fileSize": source.size, "fileHash": source.sha256}
        return await client._request("POST", f"{path}/complete", body=body)
    finally:
        with _io_async.shield():
            await source.aclose()


async def upload_data_version(
    client: "AsyncBaseClient",
    dataset_id: str,
    file: Any,
    *,
    file_type: Optional[str],
    status: str,
    name: Optional[str],
    file_hash: Optional[str],
    progress: Optional[ProgressCallback],
    extra: Dict[str, Any],
) -> Any:
    """A dataset's new data version (api.md 6.4), same streaming and checks as files; returns
    the completed version as the server sent it, with the row count the server counted.

    The size and SHA-256 are declared at create (the URL then takes exactly those bytes) and
    again at complete; no row count is sent: the server counts the rows itself. A failed PUT
    leaves the pending version to expire (the API has no way to delete one).
    """
    source = await _open_source(file, name, _known_hash(file_hash), DEFAULT_DATA_NAME)
    try:
        wire_type = data_file_type(file_type, source.name, source.head)
        fields = {
            "datasetId": dataset_id,
            "fileName": source.name,
            "fileType": wire_type,
            "status": status,
            "fileSizeBytes": source.size,
            "fileHash": source.sha256,
            "signChecksum": True,
        }
        action = "POST /dataset-data-versions"
        body = make_body(fields, extra)
        created = await client._request("POST", "/dataset-data-versions", body=body)
        _, version_id, url, signed = _upload_target(
            created, "dataVersion", "datasetDataVersionId", action
        )
        headers = {
            "Content-Type": CONTENT_TYPES.get(wire_type, OCTET_STREAM),
            "Content-Length": str(source.size),
            **signed,
        }
        await _put(client, url, headers, source, progress)
        path = f"/dataset-data-versions/{path_param(version_id, 'version_id')}/complete"
        complete = {"fileSizeBytes": source.size, "fileHash": source.sha256}
        return await client._request("POST", path, body=complete)
    finally:
        with _io_async.shield():
            await source.aclose()


# --- download -------------------------------------------------------------------------------------


class _Sink:
    """Where downloaded bytes go: memory, or a temporary file beside the target that is renamed
    into place only once complete and verified.

    The pieces the connection delivers are handed to a worker thread in batches of about
    ``CHUNK_SIZE``; it hashes and writes them while the next batch arrives, so receiving, hashing
    and writing overlap. Pieces are passed on as they are: nothing is copied or re-allocated.
    """

    def __init__(self, path: Optional[Path]) -> None:
        self._path = path
        self._temp: Optional[Path] = None
        self._file: Optional[IO[bytes]] = None
        self._worker = _io_async.Worker()
        self._batch: List[bytes] = []
        self._batch_size = 0
        self._parts: List[bytes] = []  # memory only
        self._digest = hashlib.sha256()
        self.size = 0

    async def open(self) -> None:
        if self._path is not None:
            name = f".{self._path.name}.{uuid.uuid4().hex[:12]}.part"
            self._temp = self._path.with_name(name)
            self._file = await _io_async.run_blocking(_create, self._temp)

    def _consume(self, pieces: List[bytes]) -> None:  # on the worker thread, in order
        update = self._digest.update
        if self._file is not None:
            write = self._file.write
            for piece in pieces:
                update(piece)
                write(piece)
        else:
            for piece in pieces:
                update(piece)
            self._parts += pieces

    async def _hand_over(self) -> None:
        if self._batch:
            await self._worker.submit(self._consume, self._batch)
            self._batch, self._batch_size = [], 0

    async def reset(self) -> None:
        """Start again from byte 0 (a retried attempt)."""
        await self._worker.wait()
        self._batch, self._batch_size, self._parts = [], 0, []
        self._digest = hashlib.sha256()
        self.size = 0
        if self._file is not None:
            await _io_async.run_blocking(_truncate, self._file)

    async def write(self, piece: bytes) -> None:
        self._batch.append(piece)
        self._batch_size += len(piece)
        self.size += len(piece)
        if self._batch_size >= CHUNK_SIZE:
            await self._hand_over()

    async def sha256(self) -> str:
        """Hash of everything written (waits for the worker)."""
        await self._hand_over()
        await self._worker.wait()
        return self._digest.hexdigest()

    async def finish(self) -> Optional[bytes]:
        """The bytes (memory), or None after renaming the complete file to the target."""
        await self._worker.aclose()
        if self._file is None or self._temp is None or self._path is None:
            data, self._parts = b"".join(self._parts), []
            return data
        await _io_async.run_blocking(_close_and_rename, self._file, self._temp, self._path)
        self._file = None
        return None

    async def discard(self) -> None:
        with contextlib.suppress(Exception):
            await self._worker.aclose()
        self._batch, self._parts = [], []
        if self._file is not None and self._temp is not None:
            await _io_async.run_blocking(_close_and_remove, self._file, self._temp)
            self._file = None


def _create(temp: Path) -> IO[bytes]:
    temp.parent.mkdir(parents=True, exist_ok=True)
    return open(temp, "xb")  # closed by the sink


def _truncate(f: IO[bytes]) -> None:
    f.seek(0)
    f.truncate()


def _close_and_rename(f: IO[bytes], temp: Path, target: Path) -> None:
    f.close()
    os.replace(temp, target)


def _close_and_remove(f: IO[bytes], temp: Path) -> None:
    f.close()
    with contextlib.suppress(FileNotFoundError):
        temp.unlink()


async def _get_once(
    client: "AsyncBaseClient",
    url: str,
    sink: _Sink,
    progress: Optional[ProgressCallback],
    expected_size: int,
) -> None:
    request = _storage_request(client, "GET", url)
    response = await client._http.send(request, stream=True, auth=None, follow_redirects=False)
    try:
        if not response.is_success:
            await response.aread()
            error = storage_error(response, "download")
            if transfer_should_retry(response):
                raise _ServerError(response, error)
            raise error
        length = response.headers.get("content-length", "")
        total = int(length) if length.isdigit() else expected_size
        await sink.reset()
        _report(progress, 0, total)
        async for piece in _raw_pieces(response):
            await sink.write(piece)
            _report(progress, sink.size, total)
    finally:
        await response.aclose()


async def _raw_pieces(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body exactly as stored: raw, never decoded (storage URLs are fetched without
    Accept-Encoding), in the pieces the connection delivers."""
    if response.is_stream_consumed:  # a body read already: test doubles build responses so
        yield response.content
        return
    async for piece in response.aiter_raw():
        yield piece


async def _get(
    client: "AsyncBaseClient",
    url: str,
    sink: _Sink,
    progress: Optional[ProgressCallback],
    expected_size: int,
) -> None:
    attempt = 0
    while True:
        try:
            return await _get_once(client, url, sink, progress, expected_size)
        except _RETRYABLE as exc:
            await _wait_or_raise(client, attempt, exc, "download")
        attempt += 1


async def _fetch_verified(
    client: "AsyncBaseClient",
    url: str,
    *,
    path: Union[str, "os.PathLike[str]", None],
    progress: Optional[ProgressCallback],
    expected_hash: Optional[str],
    expected_size: int,
    what: str,
) -> Optional[bytes]:
    """GET a presigned URL into memory or ``path``, checked against the size and hash."""
    sink = _Sink(Path(os.fspath(path)) if path is not None else None)
    await sink.open()
    try:
        await _get(client, url, sink, progress, expected_size)
        digest = await sink.sha256()
        problem = None
        if expected_size >= 0 and sink.size != expected_size:
            problem = f"{sink.size} bytes arrived, the {what} has {expected_size}"
        elif expected_hash is not None and digest != expected_hash:
            problem = f"their SHA-256 {digest} differs from the {what}'s {expected_hash}"
        if problem:
            raise APIError(
                f"The download of {what} is corrupt: {problem}. Nothing was kept; "
                "download it again."
            )
        return await sink.finish()
    except BaseException:
        with _io_async.shield():
            await sink.discard()
        raise


def _download_url(answer: Any, api_path: str) -> Tuple[Dict[str, Any], str]:
    answer = answer if isinstance(answer, dict) else {}
    url = answer.get("downloadUrl")
    if not isinstance(url, str) or not url:
        raise APIError(f"Unexpected answer to GET {api_path}/download: no downloadUrl")
    return answer, url


def _size(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


async def download_file(
    client: "AsyncBaseClient",
    file_id: str,
    *,
    path: Union[str, "os.PathLike[str]", None],
    progress: Optional[ProgressCallback],
    file_hash: Optional[str] = None,
) -> Optional[bytes]:
    """The whole download flow: the bytes, or ``None`` once they are verified at ``path``."""
    api_path = f"/files/{path_param(file_id, 'file_id')}"
    answer, url = _download_url(await client._request("GET", f"{api_path}/download"), api_path)
    expected_hash = normalize_hash(answer.get("fileHash") or file_hash)
    size: Any = answer.get("fileSize")
    if expected_hash is None:
        described = await client._request("GET", api_path)
        if isinstance(described, dict):
            expected_hash = normalize_hash(described.get("fileHash"))
            size = described.get("fileSize")
    return await _fetch_verified(
        client,
        url,
        path=path,
        progress=progress,
        expected_hash=expected_hash,
        expected_size=_size(size),
        what=f"file {file_id}",
    )


async def download_data_version(
    client: "AsyncBaseClient",
    version_id: str,
    *,
    path: Union[str, "os.PathLike[str]", None],
    progress: Optional[ProgressCallback],
    file_hash: Optional[str] = None,
    file_size: Optional[int] = None,
) -> Optional[bytes]:
    """A data version's bytes (api.md 6.5), checked against its size and SHA-256 (read from the
    version first when the caller does not know them)."""
    api_path = f"/dataset-data-versions/{path_param(version_id, 'version_id')}"
    expected_hash = normalize_hash(file_hash)
    if expected_hash is None:
        described = await client._request("GET", api_path)
        if isinstance(described, dict):
            expected_hash = normalize_hash(described.get("fileHash"))
            file_size = described.get("fileSizeBytes")
    _, url = _download_url(await client._request("GET", f"{api_path}/download"), api_path)
    return await _fetch_verified(
        client,
        url,
        path=path,
        progress=progress,
        expected_hash=expected_hash,
        expected_size=_size(file_size),
        what=f"data version {version_id}",
    )


async def fetch_execution_output(client: "AsyncBaseClient", execution_id: str) -> Any:
    """A pipeline execution's output (api.md 6.10): the inline ``data``, or the stored JSON
    fetched from its self-authenticating URL (checked against ``fileSizeBytes``, gunzipped when
    ``compressionType`` is ``gzip``); ``None`` for an answer of another kind."""
    api_path = f"/pipeline-executions/{path_param(execution_id, 'pipeline_execution_id')}/output"
    answer = await client._request("GET", api_path)
    is_inline, data = inline_output(answer)
    if is_inline:
        return data
    stored = stored_output(answer)
    if stored is None:
        return None
    url, size, compression = stored
    raw = await _fetch_verified(
        client,
        url,
        path=None,
        progress=None,
        expected_hash=None,
        expected_size=size,
        what=f"the output of pipeline execution {execution_id}",
    )
    return decode_stored_output(raw or b"", compression)

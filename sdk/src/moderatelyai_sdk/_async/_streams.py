"""Byte sources and sinks of presigned transfers: what is sent, what is received, and checks on
both. Nothing here makes a request; the resources send through the client's ``_transfer``.

Upload: ``UploadSource`` classifies what the caller gave (a path, bytes, a file object, a reader),
hashes it in a first streamed pass (a stream that cannot be rewound is spooled to a temporary
file on the way) and hands out a fresh body for every attempt, read again from the first byte.
Download: ``DownloadSink`` takes the body of each attempt into memory or into a temporary file
beside the target, hashes it on the way, checks it against the expected size and SHA-256, and
renames it into place only then. Memory stays at a few ``CHUNK_SIZE`` buffers whatever the size.
"""

import contextlib
import errno
import hashlib
import inspect
import io
import os
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import (
    IO,
    Any,
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    List,
    Optional,
    Tuple,
    Type,
    Union,
)

import httpx

from .. import _io_async
from .._exceptions import APIError
from .._files import (
    CHUNK_SIZE,
    DEFAULT_UPLOAD_NAME,
    SNIFF_SIZE,
    MissingFileError,
    normalize_hash,
    upload_name,
)

__all__ = ["DownloadSink", "ProgressCallback", "UploadSource", "read_head"]

#: ``progress(bytes_done, total)`` after every chunk; ``total`` is -1 when unknown. A retried
#: transfer starts counting again from 0.
ProgressCallback = Callable[[int, int], object]
#: A file to write to: a path (str or ``os.PathLike``).
PathType = Union[str, "os.PathLike[str]"]


def _report(progress: Optional[ProgressCallback], done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)


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
        _digest_binary(f, digest)
        return digest
    while chunk := _as_bytes(f.read(CHUNK_SIZE)):
        digest.update(chunk)
    return digest


def _digest_binary(f: Any, digest: _Digest) -> None:
    """Feed ``f`` to ``digest`` through two reused buffers: a helper thread reads the next one
    while this thread hashes the last (both release the GIL), so copying the bytes out of the
    page cache overlaps SHA-256 instead of adding to it. Memory: two ``CHUNK_SIZE`` buffers."""
    buffers = (bytearray(CHUNK_SIZE), bytearray(CHUNK_SIZE))
    with ThreadPoolExecutor(1, thread_name_prefix="moderatelyai-hash") as reader:
        turn = 0
        pending = reader.submit(f.readinto, buffers[turn])
        while count := pending.result():
            filled, turn = buffers[turn], 1 - turn
            pending = reader.submit(f.readinto, buffers[turn])
            digest.update(memoryview(filled)[:count])


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
        self._reader = _io_async.Worker()
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
        # The next chunk is read on the reader's thread while this one is sent (at most one
        # ahead: two chunks in memory). One reader for every attempt: an abandoned attempt's
        # read-ahead is finished before the next attempt rewinds the file.
        with contextlib.suppress(Exception):
            await self._reader.wait()
        await _io_async.run_blocking(self._file.seek, self._start)
        ahead: List[bytes] = []

        def read_ahead() -> None:
            ahead.append(_as_bytes(self._file.read(CHUNK_SIZE)))

        await self._reader.submit(read_ahead)
        sent = 0
        while True:
            await self._reader.wait()
            chunk = ahead.pop()
            if not chunk:
                break
            sent += len(chunk)
            if sent > self.size:
                break
            await self._reader.submit(read_ahead)
            yield chunk
        if sent != self.size:
            raise ValueError(
                f"{self.name!r} changed while it was being uploaded ({self.size} bytes were "
                "measured); upload it again"
            )

    async def aclose(self) -> None:
        try:
            with contextlib.suppress(Exception):
                await self._reader.aclose()
        finally:
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


def _known_hash(file_hash: Optional[str]) -> Optional[str]:
    known = normalize_hash(file_hash)
    if file_hash is not None and known is None:
        raise ValueError(f"file_hash must be a SHA-256 (64 hex characters), not {file_hash!r}")
    return known


async def _open_source(
    file: Any, name: Optional[str], known_hash: Optional[str], default_name: str
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


class UploadSource:
    """What the caller gave to upload, measured and hashed on entry (before any request)::

        async with UploadSource(file, name=name, file_hash=file_hash) as source:
            ...  # source.name, .size, .sha256, .head (the first bytes, to sniff a type)
            await client._transfer("upload", "PUT", url, content=source.bodies(progress))

    A path is opened (``MissingFileError`` if it does not exist), bytes are sent as they are, a
    seekable binary file is read from its current position (and rewound there for a retry), and
    any other reader (text files, pipes, ``async def read(n)`` objects) is spooled to a temporary
    file first. ``file_hash`` (a SHA-256 the caller knows) saves the hashing pass. Leaving the
    block closes what it opened and every body it handed out.
    """

    def __init__(
        self,
        file: Any,
        *,
        name: Optional[str] = None,
        file_hash: Optional[str] = None,
        default_name: str = DEFAULT_UPLOAD_NAME,
    ) -> None:
        self._file = file
        self._name = name
        self._known_hash = _known_hash(file_hash)  # a malformed hash raises before any I/O
        self._default_name = default_name
        self._source: Optional[_Source] = None
        self._bodies: List[AsyncGenerator[bytes, None]] = []

    @property
    def _opened(self) -> _Source:
        if self._source is None:
            raise RuntimeError("use the source inside `async with UploadSource(...)`")
        return self._source

    @property
    def name(self) -> str:
        """The file name to declare (see ``_files.upload_name``)."""
        return self._opened.name

    @property
    def size(self) -> int:
        return self._opened.size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the bytes (the caller's ``file_hash`` when given)."""
        return self._opened.sha256

    @property
    def head(self) -> bytes:
        """Up to ``SNIFF_SIZE`` first bytes, to tell the type by."""
        return self._opened.head

    def bodies(
        self, progress: Optional[ProgressCallback] = None
    ) -> Callable[[], AsyncIterator[bytes]]:
        """A maker of request bodies: each call streams the bytes again from the first one,
        calling ``progress(bytes_sent, size)`` on the way (from 0 again on every attempt)."""

        def body() -> AsyncIterator[bytes]:
            generator = self._body(progress)
            self._bodies.append(generator)
            return generator

        return body

    async def _body(self, progress: Optional[ProgressCallback]) -> AsyncGenerator[bytes, None]:
        source, done = self._opened, 0
        _report(progress, 0, source.size)
        async for chunk in source.chunks():
            yield chunk
            done += len(chunk)
            _report(progress, done, source.size)

    async def __aenter__(self) -> "UploadSource":
        self._source = await _open_source(
            self._file, self._name, self._known_hash, self._default_name
        )
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        with _io_async.shield():
            bodies, self._bodies = self._bodies, []
            for body in bodies:
                with contextlib.suppress(Exception):
                    await body.aclose()
            if self._source is not None:
                await self._source.aclose()


async def read_head(file: Any, limit: int) -> Tuple[bytes, bool]:
    """Up to ``limit`` first bytes of a path, bytes or reader (from its position), and whether
    that was all of it. Memory stays at ``limit`` whatever the size."""
    if isinstance(file, (bytes, bytearray, memoryview)):
        data = bytes(memoryview(file).cast("B")[: limit + 1])
        return data[:limit], len(data) <= limit
    if isinstance(file, (str, os.PathLike)):
        f = await _io_async.run_blocking(_open_path, os.fsdecode(file))
        try:
            data = await _io_async.run_blocking(f.read, limit + 1)
        finally:
            await _io_async.run_blocking(f.close)
        return data[:limit], len(data) <= limit
    if not callable(getattr(file, "read", None)):
        raise ValueError(
            f"Cannot read a sample from a {type(file).__name__}: pass a path (str or Path), "
            "bytes, or a file-like object with read()"
        )
    parts: List[bytes] = []
    size = 0
    while size <= limit:
        chunk = _as_bytes(await _io_async.read(file, min(CHUNK_SIZE, limit + 1 - size)))
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts)[:limit], False


# --- download -------------------------------------------------------------------------------------


class DownloadSink:
    """Where downloaded bytes go: memory (``path=None``), or a temporary file beside ``path``
    that is renamed into place only once complete and verified::

        async with DownloadSink(path, what="file f_1", sha256=digest, size=size) as sink:
            await client._transfer("download", "GET", url, receive=sink.receiver(progress))
            return await sink.finish()  # the bytes, or None once they are at path

    ``receiver`` reads the body of each attempt from its first byte (a retry starts again).
    Leaving the block early (an error, a cancellation) removes the temporary file.

    The pieces the connection delivers are handed to a worker thread in batches of about
    ``CHUNK_SIZE``; it hashes and writes them while the next batch arrives, so receiving, hashing
    and writing overlap. Pieces are passed on as they are: nothing is copied or re-allocated.
    """

    def __init__(
        self,
        path: Optional[PathType],
        *,
        what: str,
        sha256: Optional[str] = None,
        size: int = -1,
    ) -> None:
        self._path = Path(os.fspath(path)) if path is not None else None
        self._what = what
        self._expected_hash = sha256
        self._expected_size = size
        self._temp: Optional[Path] = None
        self._file: Optional[IO[bytes]] = None
        self._worker = _io_async.Worker()
        self._batch: List[bytes] = []
        self._batch_size = 0
        self._parts: List[bytes] = []  # memory only
        self._digest = hashlib.sha256()
        self.size = 0

    async def __aenter__(self) -> "DownloadSink":
        if self._path is not None:
            name = f".{self._path.name}.{uuid.uuid4().hex[:12]}.part"
            self._temp = self._path.with_name(name)
            self._file = await _io_async.run_blocking(_create, self._temp)
        return self

    async def __aexit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        with _io_async.shield():
            await self._discard()

    def receiver(
        self, progress: Optional[ProgressCallback] = None
    ) -> Callable[[httpx.Response], Awaitable[None]]:
        """The ``receive`` of ``client._transfer``: takes one attempt's body, from byte 0."""

        async def receive(response: httpx.Response) -> None:
            length = response.headers.get("content-length", "")
            total = int(length) if length.isdigit() else self._expected_size
            await self._reset()
            _report(progress, 0, total)
            async for piece in _raw_pieces(response):
                await self._write(piece)
                _report(progress, self.size, total)

        return receive

    async def finish(self) -> Optional[bytes]:
        """Check what arrived against the expected size and SHA-256, then return the bytes
        (memory) or ``None`` after renaming the complete file to the target.

        Raises:
            APIError: If the bytes are not the expected ones (nothing is kept).
        """
        await self._hand_over()
        await self._worker.aclose()
        digest = self._digest.hexdigest()
        problem = None
        if self._expected_size >= 0 and self.size != self._expected_size:
            problem = f"{self.size} bytes arrived, the {self._what} has {self._expected_size}"
        elif self._expected_hash is not None and digest != self._expected_hash:
            problem = (
                f"their SHA-256 {digest} differs from the {self._what}'s {self._expected_hash}"
            )
        if problem:
            raise APIError(
                f"The download of {self._what} is corrupt: {problem}. Nothing was kept; "
                "download it again."
            )
        if self._file is None or self._temp is None or self._path is None:
            data, self._parts = b"".join(self._parts), []
            return data
        await _io_async.run_blocking(_close_and_rename, self._file, self._temp, self._path)
        self._file = None
        return None

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

    async def _reset(self) -> None:
        """Start again from byte 0 (a retried attempt)."""
        await self._worker.wait()
        self._batch, self._batch_size, self._parts = [], 0, []
        self._digest = hashlib.sha256()
        self.size = 0
        if self._file is not None:
            await _io_async.run_blocking(_truncate, self._file)

    async def _write(self, piece: bytes) -> None:
        self._batch.append(piece)
        self._batch_size += len(piece)
        self.size += len(piece)
        if self._batch_size >= CHUNK_SIZE:
            await self._hand_over()

    async def _discard(self) -> None:
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


async def _raw_pieces(response: httpx.Response) -> AsyncIterator[bytes]:
    """The body exactly as stored: raw, never decoded (storage URLs are fetched without
    Accept-Encoding), in the pieces the connection delivers."""
    if response.is_stream_consumed:  # a body read already: test doubles build responses so
        yield response.content
        return
    async for piece in response.aiter_raw():
        yield piece

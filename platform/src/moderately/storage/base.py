"""The object-store seam: one small async protocol, two implementations (local disk, S3).

Everything above this layer (the Files service, dataset versions, pipeline outputs) talks to an
`ObjectStore` and never to a filesystem path or an S3 client, the way httpx puts every transport
behind one `handle_request`. The protocol covers exactly what the upload and download
flows of files and dataset versions need:

* client transfers go through presigned URLs (`presign`), so bytes never pass through the API
  process on S3; the local store signs its own URLs and serves them on its own routes;
* `/files/{id}/complete` calls `commit(key, size=..., sha256=...)`, which verifies what was stored
  and makes it visible, or removes it and raises `IntegrityError`;
* deletions remove one key (`delete`) or everything below a prefix (`delete_prefix`), and
  `remove_stale_uploads` clears the upload area of bytes nobody can complete any more;
* server-side producers and consumers (pipeline outputs, dataset processing) use `put` and `open`,
  which stream in bounded memory.

Keys are validated once, here, with rules that are safe for both a filesystem and S3.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import ClassVar, Literal, Protocol, runtime_checkable
from urllib.parse import quote

__all__ = [
    "CHUNK_SIZE",
    "MAX_EXPIRES_IN",
    "MAX_KEY_BYTES",
    "ExpiredSignature",
    "IntegrityError",
    "InvalidKey",
    "InvalidSignature",
    "Method",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectStore",
    "PresignedRequest",
    "SignatureError",
    "StorageError",
    "StoreUnavailable",
    "UploadClosed",
    "UploadRejected",
    "WrongMethod",
    "attachment",
    "b64_to_hex",
    "check_expires_in",
    "check_prefix",
    "check_put_size",
    "check_sha256",
    "hex_to_b64",
    "validate_key",
]

Method = Literal["PUT", "GET"]

#: Read and write granularity of both stores: large enough to keep per-chunk overhead (thread hops,
#: syscalls) negligible, small enough that a transfer's memory stays bounded.
CHUNK_SIZE = 1024 * 1024
#: S3's limit for a key, applied to both stores so a key that works locally works on S3.
MAX_KEY_BYTES = 1024
#: SigV4 presigned URLs cannot live longer than 7 days; the local store keeps the same bound.
MAX_EXPIRES_IN = 7 * 24 * 3600

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_FORBIDDEN_KEY_CHARS = re.compile(r"[\x00-\x1f\x7f\\]")


class StorageError(Exception):
    """Base of every storage error; `http_status` is the status the API should answer with."""

    http_status: ClassVar[int] = 500


class StoreUnavailable(StorageError):
    """The store could not be reached or failed on its side (S3 5xx, network): retry later."""

    http_status = 503


class InvalidKey(StorageError, ValueError):
    """A key that could escape the store's root, is not portable to S3, or clashes with another."""

    http_status = 400


class ObjectNotFound(StorageError):
    """No object (or, for `commit`, no upload) under that key."""

    http_status = 404

    def __init__(self, key: str, what: str = "object") -> None:
        super().__init__(f"no {what} stored under key {key!r}")
        self.key = key


class IntegrityError(StorageError):
    """`commit` found a size or SHA-256 different from the declared one; the object was removed."""

    http_status = 400

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{reason} (key {key!r}); the stored object was removed")
        self.key = key
        self.reason = reason


class UploadRejected(StorageError):
    """The local store refused an upload body: wrong byte count or checksum. Nothing was kept."""

    http_status = 400


class SignatureError(StorageError):
    """A presigned URL that must not be honoured. 403, as S3 answers."""

    http_status = 403


class InvalidSignature(SignatureError):
    """The URL was altered, or signed with another secret."""


class ExpiredSignature(SignatureError):
    """The URL was genuine but its lifetime is over."""


class WrongMethod(SignatureError):
    """The URL was signed for another HTTP method (a download URL used to upload, or back)."""


class UploadClosed(SignatureError):
    """A genuine upload URL whose upload is over: completed, failed or deleted. Single use."""


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a store knows about an object without reading its bytes.

    `sha256` (64 lower-case hex characters) is set only when the store can vouch for it: the local
    store hashed the bytes itself while writing them, and S3 returns a SHA-256 checksum only when
    it verified one at upload time. Otherwise it is None and `ObjectStore.sha256` reads the object.
    """

    key: str
    size: int
    content_type: str | None = None
    etag: str | None = None
    sha256: str | None = None
    # What a download serves as Content-Disposition (the local store's `serve`); None: attachment.
    content_disposition: str | None = None


@dataclass(frozen=True, slots=True)
class PresignedRequest:
    """A request a client can make without credentials.

    `headers` are the ones the client must send verbatim (they are bound into the signature, for
    example `Content-Length` and `x-amz-checksum-sha256` for an S3 upload); any other header is
    left to the client.
    """

    method: Method
    url: str
    headers: Mapping[str, str]
    expires_at: datetime


class ObjectReader:
    """An open object: `info` is known before the first byte, so a route can answer 404 first.

    Iterate it (once) for chunks of at most `CHUNK_SIZE` bytes. Leaving the loop early or calling
    `aclose` releases the file or the connection; it is also an async context manager.
    """

    def __init__(
        self,
        info: ObjectInfo,
        chunks: AsyncIterator[bytes],
        close: Callable[[], Awaitable[None]],
    ) -> None:
        self.info = info
        self._chunks = chunks
        self._close = close
        self._closed = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._chunks:
                yield chunk
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            await self._close()

    async def read(self) -> bytes:
        """The whole object in memory: for small objects and tests only."""
        return b"".join([chunk async for chunk in self])

    async def __aenter__(self) -> ObjectReader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@runtime_checkable
class ObjectStore(Protocol):
    """An async object store.

    `uploads_isolated`: a presigned PUT lands in an upload area apart from the final key, and
    only `commit` moves it there (local disk: an atomic rename; S3: a server-side copy of the
    version it verified, then the staging object goes). An upload URL is therefore single use
    as far as the stored object goes: a PUT after `commit` (or after `delete`) can never change
    or recreate the committed object. The local store's routes refuse such a PUT outright (403,
    `UploadClosed`); S3 cannot revoke a presigned URL, so there the late bytes stay in the
    upload area, never readable, until `remove_stale_uploads` clears them.

    `commit` verifies size and SHA-256 and removes the upload when they differ, so nothing
    unverified ever becomes readable.
    """

    uploads_isolated: ClassVar[bool]

    async def setup(self) -> None:
        """Create what the store needs (directories, the bucket). Idempotent."""
        ...

    async def aclose(self) -> None:
        """Release connections and threads."""
        ...

    async def put(
        self, key: str, data: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> ObjectInfo:
        """Store a stream under `key`, replacing any object there; visible at once, atomically.

        Memory stays bounded whatever the size. The returned info carries the SHA-256 of the
        bytes written.
        """
        ...

    async def open(self, key: str) -> ObjectReader:
        """Open a committed object for streaming; raises `ObjectNotFound`."""
        ...

    async def head(self, key: str) -> ObjectInfo | None:
        """Size, content type, etag and (when known) SHA-256 of a committed object, or None."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def delete(self, key: str) -> None:
        """Remove the object and any upload in progress under `key`. Missing is not an error."""
        ...

    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object and upload whose key starts with `prefix` (which ends with "/").

        Returns how many objects went (uploads not counted). Missing is not an error.
        """
        ...

    async def remove_stale_uploads(self, *, before: datetime) -> int:
        """Remove uploads last written before `before`: no URL can still complete them. Returns
        how many went."""
        ...

    async def presign(
        self,
        method: Method,
        key: str,
        *,
        expires_in: int,
        content_length: int | None = None,
        content_type: str | None = None,
        sha256: str | None = None,
        base_url: str | None = None,
        max_length: int | None = None,
        file_name: str | None = None,
    ) -> PresignedRequest:
        """A URL that lets a client PUT (upload) or GET (download) one object without credentials.

        PUT takes `content_length` (the URL accepts exactly that many bytes) or, when the size is
        not known in advance, `max_length`: any body up to that many bytes. The local store
        enforces `max_length` while receiving; a presigned S3 PUT cannot carry a size range, so
        there the caller checks the committed size (`commit` returns it). `content_type`
        binds the upload's Content-Type (PUT) or sets the served one (GET). `sha256` (hex) binds
        the body's checksum: the store itself rejects any other body, so `commit` need not read
        the object again; the client must then send the returned headers. `base_url` is the
        origin for stores that serve URLs themselves (local) when it depends on the incoming
        request; S3 ignores it. A GET is always served as an attachment, under `file_name`
        when given (`attachment`), never to be shown as a page.
        """
        ...

    async def commit(
        self, key: str, *, size: int | None = None, sha256: str | None = None
    ) -> ObjectInfo:
        """Finish a presigned upload: verify the declared size and SHA-256, then make it visible.

        Raises `ObjectNotFound` when nothing was uploaded, and `IntegrityError` (after removing
        the upload) when the size or hash differ. Verification reads the object only when the
        store cannot vouch for its hash (see `ObjectInfo.sha256`).
        """
        ...

    async def sha256(self, key: str) -> str:
        """SHA-256 (hex) of a committed object, computed by streaming all of its bytes."""
        ...


def validate_key(key: str) -> str:
    """Return `key` if it is a safe, portable object key, else raise `InvalidKey`.

    Segments are separated by "/", none may be empty, "." or "..", and control characters and
    backslashes are refused: on local disk a key can then never leave the store's root, and the
    same key means the same object on S3.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("an object key must be a non-empty string")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise InvalidKey(f"an object key may not exceed {MAX_KEY_BYTES} bytes")
    if _FORBIDDEN_KEY_CHARS.search(key):
        raise InvalidKey(f"object key {key!r} contains a control character or a backslash")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKey(
                f"object key {key!r} has an empty, '.' or '..' segment, or a leading, "
                "trailing or doubled '/'"
            )
        if len(segment.encode("utf-8", "surrogatepass")) > 255:
            raise InvalidKey(f"a segment of object key {key!r} exceeds 255 bytes")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidKey(f"object key {key!r} is not valid Unicode text") from None
    return key


def check_prefix(prefix: str) -> str:
    """A key prefix for `delete_prefix`: one or more whole segments and a trailing "/"."""
    if not prefix.endswith("/"):
        raise InvalidKey(f"a key prefix ends with '/': {prefix!r}")
    validate_key(prefix[:-1])
    return prefix


_TOKEN_SAFE = "!#$&+^`|"  # RFC 5987 attr-chars that `quote` would escape


def attachment(file_name: str | None) -> str:
    """A Content-Disposition that makes browsers save a download, never show it (RFC 6266).

    `filename*` carries the name in UTF-8; `filename` an ASCII stand-in for old clients.
    """
    if not file_name:
        return "attachment"
    fallback = "".join(
        c if " " <= c <= "~" and c not in '"\\/%' else "_"
        for c in unicodedata.normalize("NFKD", file_name)
        if not unicodedata.combining(c)
    )
    encoded = quote(file_name, safe=_TOKEN_SAFE)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def check_sha256(value: str | None) -> str | None:
    """Normalise a hex SHA-256 to lower case; refuse anything else (prefixes are the caller's)."""
    if value is None:
        return None
    lowered = value.lower()
    if not _SHA256_HEX.fullmatch(lowered):
        raise ValueError("sha256 must be 64 hexadecimal characters")
    return lowered


def check_put_size(
    content_length: int | None, max_length: int | None
) -> tuple[int | None, int | None]:
    """A PUT URL is for an exact size, or (size unknown) for any size up to a maximum."""
    if content_length is not None:
        if content_length < 0:
            raise ValueError("content_length must be >= 0")
        return content_length, None
    if max_length is None or max_length < 0:
        raise ValueError("a PUT URL needs the exact content_length, or max_length (>= 0)")
    return None, max_length


def check_expires_in(expires_in: int) -> int:
    if not 1 <= expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be between 1 and {MAX_EXPIRES_IN} seconds")
    return expires_in


def hex_to_b64(hex_digest: str) -> str:
    """S3 checksum headers carry the digest in base64."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


def b64_to_hex(b64_digest: str) -> str | None:
    """The hex form of an S3 SHA-256 checksum, or None for composite (multipart) checksums."""
    try:
        raw = base64.b64decode(b64_digest, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw.hex() if len(raw) == 32 else None

"""Objects on local disk, with URLs the server signs itself (the embedded default).

Layout under the store's root (the server's data dir, typically `<data>/objects`)::

    objects/<key>                 committed objects, readable through `open`
    uploads/<key>                 presigned uploads waiting for `commit`
    meta/{objects,uploads}/<key>.json   size, SHA-256, content type, inode of the data file
    tmp/                          bytes being written; renamed into place only when complete

Every write streams to `tmp/` and lands with one atomic `os.replace`, so a reader sees the old
object or the new one, never half of one, and a failed or interrupted write leaves nothing. The
metadata records the inode of the data file it describes, so a metadata file that does not
belong to the current data file (a crash between the two renames) is ignored rather than
trusted. Keys pass `validate_key`, so no key can leave the root. Files are created 0600 and
directories 0700 (moderately/private_files.py): only the server's user can read an object, from
its first byte.

Presigned URLs are `{base_url}/{token}` for both methods. The token carries the key, the expiry,
the exact size of an upload (or, for an upload of unknown size, its maximum) and optionally its
SHA-256 and content type, and for a download the file name it is saved under; an HMAC-SHA256
with the server's secret binds them and the HTTP method. The router for those URLs calls
`receive` (PUT) and `serve` (GET) and maps `SignatureError` to 403 and `UploadRejected` to 400.
A token cannot be revoked, so `receive` asks the caller whether the upload is still open
(`accepting`): before it reads the body, and again once the bytes landed, removing them when the
upload was completed, failed or deleted meanwhile.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import errno
import hashlib
import hmac
import json
import os
import shutil
import stat
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, ClassVar, Literal, cast
from urllib.parse import quote, unquote

import anyio.to_thread

from moderately.private_files import create_private_file, make_private_dir, write_private_bytes

from .base import (
    CHUNK_SIZE,
    ExpiredSignature,
    IntegrityError,
    InvalidKey,
    InvalidSignature,
    Method,
    ObjectInfo,
    ObjectNotFound,
    ObjectReader,
    PresignedRequest,
    UploadClosed,
    UploadRejected,
    WrongMethod,
    attachment,
    check_expires_in,
    check_prefix,
    check_put_size,
    check_sha256,
    validate_key,
)

__all__ = ["Grant", "LocalStore", "UrlSigner", "response_headers"]

_Area = Literal["objects", "uploads"]
_AREAS: tuple[_Area, ...] = ("objects", "uploads")
_TOKEN_VERSION = b"moderately-storage-v1"
_MIN_SECRET_BYTES = 16
_STALE_TMP_SECONDS = 24 * 3600


@dataclass(frozen=True, slots=True)
class Grant:
    """What one signed URL permits: one method on one key until `expires` (Unix seconds)."""

    method: Method
    key: str
    expires: int
    size: int | None = None
    sha256: str | None = None
    content_type: str | None = None
    # An upload of unknown size: any body up to this many bytes (PUT without `size`).
    max_size: int | None = None
    # A download's name in its Content-Disposition (GET).
    file_name: str | None = None


class UrlSigner:
    """HMAC-SHA256 signatures for the local store's URLs.

    The secret comes from the server's settings and is handed in, so two apps in one process
    (tests) can use different secrets. `clock` is injectable for the same reason.
    """

    def __init__(self, secret: bytes | str, *, clock: Callable[[], float] = time.time) -> None:
        key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
        if len(key) < _MIN_SECRET_BYTES:
            raise ValueError(f"the URL signing secret must be at least {_MIN_SECRET_BYTES} bytes")
        self._key = key
        self._clock = clock

    def now(self) -> float:
        return self._clock()

    def sign(self, grant: Grant) -> str:
        """Hex HMAC over the method and every field of the grant."""
        return hmac.new(self._key, _message(grant), hashlib.sha256).hexdigest()

    def token(self, grant: Grant) -> str:
        """An opaque, URL-safe token: the grant's fields (not the method) plus the signature."""
        fields = "\n".join(_fields(grant)).encode("utf-8")
        return f"{_b64(fields)}.{self.sign(grant)}"

    def verify(
        self,
        method: str,
        key: str,
        expires: int,
        size: int | None,
        signature: str,
        *,
        sha256: str | None = None,
        content_type: str | None = None,
        max_size: int | None = None,
        file_name: str | None = None,
    ) -> Grant:
        """Return the grant if `signature` authorises `method` now, else raise.

        `WrongMethod` when the signature is genuine for the other method, `InvalidSignature`
        when it matches nothing (altered field, other secret), `ExpiredSignature` when genuine
        but late. The signature is checked before the expiry, so an attacker learns nothing from
        a forged URL.
        """
        if method not in ("PUT", "GET"):
            raise WrongMethod(f"presigned URLs allow only PUT and GET, not {method}")
        grant = Grant(
            cast(Method, method), key, expires, size, sha256, content_type, max_size, file_name
        )
        if not _same(self.sign(grant), signature):
            other: Method = "GET" if method == "PUT" else "PUT"
            swapped = dataclasses.replace(grant, method=other)
            if _same(self.sign(swapped), signature):
                raise WrongMethod(f"this URL was signed for {other}, not {method}")
            raise InvalidSignature("the URL's signature does not match its contents")
        if self._clock() > expires:
            raise ExpiredSignature("the URL has expired")
        return grant

    def verify_token(self, method: str, token: str) -> Grant:
        """Decode a token made by `token` and `verify` it for `method`."""
        try:
            encoded, signature = token.rsplit(".", 1)
            parts = _unb64(encoded).decode("utf-8").split("\n")
            key, expires, size, sha256, content_type, *rest = parts
            if len(rest) > 2:
                raise ValueError("too many fields")
            return self.verify(
                method,
                key,
                int(expires),
                None if size == "-" else int(size),
                signature,
                sha256=None if sha256 == "-" else sha256,
                content_type=None if content_type == "-" else content_type,
                max_size=int(rest[0]) if rest and rest[0] != "-" else None,
                file_name=unquote(rest[1], errors="strict") if len(rest) > 1 else None,
            )
        except (ValueError, UnicodeDecodeError, binascii.Error):  # InvalidKey is a ValueError
            raise InvalidSignature("the URL's token is malformed") from None


class LocalStore:
    """Objects in a directory; see the module docstring for the layout and the URL scheme."""

    uploads_isolated: ClassVar[bool] = True

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        signing_secret: bytes | str,
        public_url: str | None = None,
        fsync: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`public_url` is where the storage routes are served (e.g. `https://host/_storage`);
        `fsync` makes a committed object survive a power cut (tests may turn it off)."""
        self.root = Path(root).absolute()
        self.signer = UrlSigner(signing_secret, clock=clock)
        self.public_url = public_url
        self._fsync = fsync
        self._tmp = self.root / "tmp"

    # --- paths and metadata (blocking helpers, called in worker threads) --------------------

    def _path(self, area: _Area, key: str) -> Path:
        return self.root / area / validate_key(key)

    def _meta_path(self, area: _Area, key: str) -> Path:
        return self.root / "meta" / area / f"{validate_key(key)}.json"

    def _tmp_path(self) -> Path:
        return self._tmp / uuid.uuid4().hex

    def _read_meta(self, area: _Area, key: str, st: os.stat_result) -> dict[str, Any]:
        """The metadata of the data file `st`, or {} when absent or stale."""
        try:
            meta = json.loads(self._meta_path(area, key).read_bytes())
        except (OSError, ValueError):
            return {}
        if not isinstance(meta, dict) or meta.get("ino") != st.st_ino:
            return {}
        if meta.get("size") != st.st_size:
            return {}
        return meta

    def _write_meta(self, area: _Area, key: str, meta: dict[str, Any]) -> None:
        tmp = self._tmp_path()
        write_private_bytes(tmp, json.dumps(meta).encode("utf-8"))
        try:
            _place(tmp, self._meta_path(area, key), self.root / "meta" / area)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def _info(self, key: str, st: os.stat_result, meta: dict[str, Any]) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=st.st_size,
            content_type=meta.get("content_type"),
            etag=f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}",
            sha256=meta.get("sha256"),
        )

    def _remove(self, area: _Area, key: str, *, data: bool = True) -> None:
        paths = [(self._meta_path(area, key), self.root / "meta" / area)]
        if data:
            paths.insert(0, (self._path(area, key), self.root / area))
        for path, top in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except (IsADirectoryError, NotADirectoryError):
                continue  # a prefix of other keys, or below a file: no object of that name
            _prune(path.parent, top)

    # --- the ObjectStore protocol ------------------------------------------------------------

    async def setup(self) -> None:
        def run() -> None:
            for sub in ("objects", "uploads", "meta/objects", "meta/uploads", "tmp"):
                make_private_dir(self.root / sub)
            cutoff = time.time() - _STALE_TMP_SECONDS
            for entry in os.scandir(self._tmp):  # leftovers of a crash, never a live write
                with contextlib.suppress(OSError):
                    if entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)

        await anyio.to_thread.run_sync(run)

    async def aclose(self) -> None:
        return None

    async def put(
        self, key: str, data: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> ObjectInfo:
        validate_key(key)
        tmp, _, digest = await self._spool(data, exact=None)
        return await anyio.to_thread.run_sync(self._land, "objects", key, tmp, content_type, digest)

    async def open(self, key: str) -> ObjectReader:
        def run() -> tuple[IO[bytes], ObjectInfo]:
            path = self._path("objects", key)
            try:
                f = path.open("rb")
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise ObjectNotFound(key) from None
            try:
                st = os.fstat(f.fileno())
                return f, self._info(key, st, self._read_meta("objects", key, st))
            except BaseException:
                f.close()
                raise

        f, info = await anyio.to_thread.run_sync(run)

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await anyio.to_thread.run_sync(f.read, CHUNK_SIZE):
                yield chunk

        async def close() -> None:
            f.close()

        return ObjectReader(info, chunks(), close)

    async def head(self, key: str) -> ObjectInfo | None:
        def run() -> ObjectInfo | None:
            try:
                st = self._path("objects", key).stat()
            except (FileNotFoundError, NotADirectoryError):
                return None
            if not _is_file(st):
                return None
            return self._info(key, st, self._read_meta("objects", key, st))

        return await anyio.to_thread.run_sync(run)

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    async def delete(self, key: str) -> None:
        def run() -> None:
            self._remove("objects", key)
            self._remove("uploads", key)

        validate_key(key)
        await anyio.to_thread.run_sync(run)

    async def delete_prefix(self, prefix: str) -> int:
        def detach(path: Path, top: Path) -> Path | None:
            """Move the tree at `path` out of sight in one rename (nothing below the prefix is
            ever half deleted); where it went, or None when there is none."""
            if not path.is_dir():  # missing, or an object whose key is the prefix without "/"
                return None
            doomed = self._tmp_path()
            try:
                os.rename(path, doomed)
            except (FileNotFoundError, NotADirectoryError):
                return None
            _prune(path.parent, top)
            return doomed

        def run() -> int:
            removed = 0
            for area in _AREAS:
                trees = [
                    (detach(self.root / area / prefix, self.root / area), area == "objects"),
                    (detach(self.root / "meta" / area / prefix, self.root / "meta" / area), False),
                ]
                for doomed, count in trees:
                    if doomed is None:
                        continue
                    if count:
                        removed += sum(len(names) for _, _, names in os.walk(doomed))
                    shutil.rmtree(doomed, ignore_errors=True)
            return removed

        check_prefix(prefix)
        return await anyio.to_thread.run_sync(run)

    async def remove_stale_uploads(self, *, before: datetime) -> int:
        cutoff = before.timestamp()

        def run() -> int:
            top = self.root / "uploads"
            stale = []
            for directory, _, names in os.walk(top):
                for name in names:
                    path = Path(directory, name)
                    with contextlib.suppress(OSError):
                        if path.stat().st_mtime < cutoff:
                            stale.append(path.relative_to(top).as_posix())
            for key in stale:
                self._remove("uploads", key)
            return len(stale)

        return await anyio.to_thread.run_sync(run)

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
        validate_key(key)
        check_expires_in(expires_in)
        base = base_url or self.public_url
        if not base:
            raise ValueError("LocalStore needs public_url (or base_url) to build URLs")
        if method == "PUT":
            content_length, max_length = check_put_size(content_length, max_length)
            file_name = None
        elif method == "GET":
            content_length = max_length = None
            sha256 = None
        else:
            raise ValueError(f"method must be PUT or GET, not {method!r}")
        if content_type is not None:
            _check_content_type(content_type)
        expires = int(self.signer.now()) + expires_in
        grant = Grant(
            method,
            key,
            expires,
            content_length,
            check_sha256(sha256),
            content_type,
            max_length,
            file_name or None,
        )
        headers: dict[str, str] = {}
        if content_length is not None:
            headers["Content-Length"] = str(content_length)
            if content_type is not None:
                headers["Content-Type"] = content_type
        return PresignedRequest(
            method=method,
            url=f"{base.rstrip('/')}/{self.signer.token(grant)}",
            headers=headers,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    async def commit(
        self, key: str, *, size: int | None = None, sha256: str | None = None
    ) -> ObjectInfo:
        expected_sha = check_sha256(sha256)

        def run() -> ObjectInfo:
            # Claim the upload first: a PUT racing with this commit then lands a new upload
            # instead of swapping the bytes between verification and the rename.
            claimed = self._tmp_path()
            try:
                os.replace(self._path("uploads", key), claimed)
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise ObjectNotFound(key, "upload") from None
            try:
                st = claimed.stat()
                meta = self._read_meta("uploads", key, st)
                problem = None
                if size is not None and st.st_size != size:
                    problem = f"stored size {st.st_size} differs from the declared {size}"
                elif expected_sha is not None:
                    actual = meta.get("sha256") or _hash_file(claimed)
                    if actual != expected_sha:
                        problem = f"stored SHA-256 {actual} differs from the declared one"
                if problem:
                    self._remove("uploads", key, data=False)
                    raise IntegrityError(key, problem)
                meta = {**meta, "ino": st.st_ino, "size": st.st_size}
                self._write_meta("objects", key, meta)
                _place(claimed, self._path("objects", key), self.root / "objects")
            except BaseException:
                claimed.unlink(missing_ok=True)
                raise
            self._remove("uploads", key, data=False)
            _prune(self._path("uploads", key).parent, self.root / "uploads")
            return self._info(key, st, meta)

        return await anyio.to_thread.run_sync(run)

    async def sha256(self, key: str) -> str:
        def run() -> str:
            try:
                return _hash_file(self._path("objects", key))
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise ObjectNotFound(key) from None

        return await anyio.to_thread.run_sync(run)

    # --- the storage routes' side ------------------------------------------------------------

    async def receive(
        self,
        token: str,
        body: AsyncIterable[bytes],
        *,
        content_type: str | None = None,
        content_length: int | None = None,
        accepting: Callable[[str], Awaitable[bool]] | None = None,
    ) -> ObjectInfo:
        """Handle a PUT to a presigned URL: stream `body` into the upload area.

        Raises `SignatureError` (403) for a bad URL, `UploadRejected` (400) when the declared
        Content-Length or the received byte count differs from the signed size, or the bytes
        differ from a signed SHA-256. The body is counted while it streams, so a client that
        sends more is cut off at the first excess chunk. On any failure, cancellation included,
        the temporary file is removed and an earlier upload under the key is left as it was.
        A second PUT before `commit` replaces the first (spec 6.3).

        `accepting(key)` tells whether the upload under `key` is still open; when it is not
        (completed, failed or deleted), the PUT raises `UploadClosed` (403) and leaves no bytes,
        even when the upload closed while the body was arriving.
        """
        grant = self.signer.verify_token("PUT", token)
        if accepting is not None and not await accepting(grant.key):
            raise UploadClosed(_CLOSED)
        if grant.content_type is not None and content_type != grant.content_type:
            raise InvalidSignature("the Content-Type differs from the one the URL was signed for")
        if content_length is not None and grant.size is not None and content_length != grant.size:
            raise UploadRejected(
                f"Content-Length {content_length} differs from the signed size {grant.size}"
            )
        too_long = grant.max_size is not None and (content_length or 0) > grant.max_size
        if too_long:
            raise UploadRejected(_too_long(grant.max_size or 0))
        tmp, _, digest = await self._spool(body, exact=grant.size, limit=grant.max_size)
        if grant.sha256 is not None and digest != grant.sha256:
            tmp.unlink(missing_ok=True)
            raise UploadRejected("the body's SHA-256 differs from the one the URL was signed for")
        stored_type = grant.content_type or content_type
        info = await anyio.to_thread.run_sync(
            self._land, "uploads", grant.key, tmp, stored_type, digest
        )
        if accepting is not None and not await accepting(grant.key):
            await anyio.to_thread.run_sync(self._discard_upload, grant.key, info)
            raise UploadClosed(_CLOSED)
        return info

    async def serve(self, token: str) -> ObjectReader:
        """Handle a GET to a presigned URL; pair with `response_headers(reader.info)`.

        Raises `SignatureError` (403) and `ObjectNotFound` (404) before any byte is sent.
        """
        grant = self.signer.verify_token("GET", token)
        reader = await self.open(grant.key)
        reader.info = dataclasses.replace(
            reader.info,
            content_type=grant.content_type or reader.info.content_type,
            content_disposition=attachment(grant.file_name),
        )
        return reader

    # --- writing -----------------------------------------------------------------------------

    async def _spool(
        self, data: AsyncIterable[bytes], *, exact: int | None, limit: int | None = None
    ) -> tuple[Path, int, str]:
        """Stream `data` into a new temporary file; return its path, size and SHA-256.

        `exact`: the body must have that many bytes; `limit`: at most that many.

        Chunks are gathered up to `CHUNK_SIZE` and written and hashed in one worker-thread call,
        so memory stays at about one chunk and the event loop never waits on the disk.
        """
        tmp = self._tmp_path()
        f = await anyio.to_thread.run_sync(_create, tmp)
        digest = hashlib.sha256()
        size = 0
        buf = bytearray()
        try:
            async for chunk in data:
                size += len(chunk)
                if exact is not None and size > exact:
                    raise UploadRejected(f"the body is longer than the signed size {exact}")
                if limit is not None and size > limit:
                    raise UploadRejected(_too_long(limit))
                buf += chunk
                if len(buf) >= CHUNK_SIZE:
                    await anyio.to_thread.run_sync(_write, f, digest, buf)
                    buf.clear()
            if exact is not None and size < exact:
                raise UploadRejected(
                    f"the body ended after {size} bytes; the signed size is {exact}"
                )
            await anyio.to_thread.run_sync(_finish, f, digest, buf, self._fsync)
        except BaseException:
            f.close()
            tmp.unlink(missing_ok=True)
            raise
        return tmp, size, digest.hexdigest()

    def _discard_upload(self, key: str, landed: ObjectInfo) -> None:
        """Remove the upload under `key` if it is still the one `landed` describes."""
        try:
            st = self._path("uploads", key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return
        if self._info(key, st, {}).etag == landed.etag:
            self._remove("uploads", key)

    def _land(
        self, area: _Area, key: str, tmp: Path, content_type: str | None, sha256: str
    ) -> ObjectInfo:
        """Describe the finished temporary file, then rename it to its key (blocking)."""
        try:
            st = tmp.stat()
            meta = {
                "ino": st.st_ino,
                "size": st.st_size,
                "sha256": sha256,
                "content_type": content_type,
            }
            self._write_meta(area, key, meta)
            _place(tmp, self._path(area, key), self.root / area)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return self._info(key, st, meta)


def response_headers(info: ObjectInfo) -> dict[str, str]:
    """Headers for serving an object from the API's own origin.

    `nosniff` and `attachment` stop a browser from running an uploaded HTML or SVG file as a
    page of the API's origin.
    """
    return {
        "Content-Length": str(info.size),
        "Content-Type": info.content_type or "application/octet-stream",
        "Content-Disposition": info.content_disposition or "attachment",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


# --- helpers -------------------------------------------------------------------------------


def _fields(grant: Grant) -> list[str]:
    fields = [
        grant.key,
        str(grant.expires),
        "-" if grant.size is None else str(grant.size),
        grant.sha256 or "-",
        grant.content_type or "-",
    ]
    # Absent unless set: older grants sign as they always did.
    if grant.max_size is not None or grant.file_name is not None:
        fields.append("-" if grant.max_size is None else str(grant.max_size))
    if grant.file_name is not None:
        fields.append(quote(grant.file_name, safe=""))
    return fields


_CLOSED = "this upload URL is no longer valid: its upload was completed, failed or deleted"


def _too_long(limit: int) -> str:
    return f"the body is longer than the {limit} bytes this URL accepts"


def _message(grant: Grant) -> bytes:
    validate_key(grant.key)
    if grant.content_type is not None:
        _check_content_type(grant.content_type)
    fields = [grant.method, *_fields(grant)]
    return b"\n".join([_TOKEN_VERSION, *(f.encode("utf-8") for f in fields)])


def _check_content_type(value: str) -> None:
    if not value or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value) or value == "-":
        raise ValueError("content_type must be a non-empty header value")


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("ascii", "replace"), b.encode("ascii", "replace"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _is_file(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)


def _create(path: Path) -> IO[bytes]:
    make_private_dir(path.parent)
    return create_private_file(path)


def _write(f: IO[bytes], digest: Any, buf: bytearray) -> None:
    digest.update(buf)
    f.write(buf)


def _finish(f: IO[bytes], digest: Any, buf: bytearray, fsync: bool) -> None:
    try:
        if buf:
            _write(f, digest, buf)
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    finally:
        f.close()


def _hash_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _place(src: Path, dest: Path, top: Path) -> None:
    """Atomically rename `src` to `dest`, creating parents; retry if a delete prunes them."""
    for _ in range(5):
        try:
            make_private_dir(dest.parent)
            os.replace(src, dest)
            return
        except FileNotFoundError:
            if not src.exists():
                raise
            continue  # a concurrent delete removed the freshly made parent: make it again
        except (NotADirectoryError, IsADirectoryError, FileExistsError) as exc:
            raise InvalidKey(f"key {dest.relative_to(top)} clashes with an existing key") from exc
        except OSError as exc:
            if exc.errno == errno.ENOTEMPTY:
                raise InvalidKey(f"key {dest.relative_to(top)} is a prefix of other keys") from exc
            raise
    raise OSError(f"could not place {dest}")


def _prune(directory: Path, top: Path) -> None:
    """Remove empty directories from `directory` up to (not including) `top`."""
    while directory != top and top in directory.parents:
        try:
            directory.rmdir()
        except OSError:
            return
        directory = directory.parent

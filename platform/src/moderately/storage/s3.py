"""Objects in any S3-compatible store (production), through botocore.

Clients upload and download with URLs presigned here (SigV4, computed locally), so their bytes
never pass through the API process. A presigned PUT binds `Content-Length` (and, when the
caller knows it, `x-amz-checksum-sha256`) into the signature: the store itself refuses a body of
another size (403 SignatureDoesNotMatch) or another hash (400 BadDigest). Both were checked
against SeaweedFS in `tests/storage`.

Where an upload lands before `commit`, and why, is explained on `ObjectStore`: directly under
its key, with the database as the visibility gate. `commit` only verifies: the size from a HEAD,
the SHA-256 from the checksum S3 verified at upload when the URL bound one, else by streaming
the object once through a worker thread.

Why botocore: it is the only candidate that binds Content-Length and the checksum into a
presigned PUT (obstore's `sign` signs the host only; an upload of any size was accepted), it
creates buckets, and it returns stored checksums. Its calls block, so each one runs in a worker
thread; the API process moves object bytes only for server-side `put`/`open`/`sha256`, where a
thread hop per MiB costs nothing measurable. aiobotocore would add aiohttp and a pinned botocore
for no gain here.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal, TypeVar

import anyio.to_thread
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

from .base import (
    CHUNK_SIZE,
    IntegrityError,
    Method,
    ObjectInfo,
    ObjectNotFound,
    ObjectReader,
    PresignedRequest,
    StorageError,
    StoreUnavailable,
    b64_to_hex,
    check_expires_in,
    check_put_size,
    check_sha256,
    hex_to_b64,
    validate_key,
)

__all__ = ["S3Store"]

AddressingStyle = Literal["path", "virtual", "auto"]
_T = TypeVar("_T")
_MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


class S3Store:
    """An S3 bucket, optionally under a key prefix; see the module docstring."""

    uploads_isolated: ClassVar[bool] = False

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key: str | None = None,
        secret_key: str | None = None,
        session_token: str | None = None,
        addressing_style: AddressingStyle = "path",
        prefix: str = "",
        public_endpoint_url: str | None = None,
        create_bucket: bool = True,
        part_size: int = 8 * 1024 * 1024,
        max_connections: int = 16,
    ) -> None:
        """`public_endpoint_url` is the endpoint clients reach when it differs from the one the
        server uses (e.g. `http://seaweedfs:8333` inside a compose network); SigV4 signs the
        host, so URLs must be presigned for it. Without credentials botocore's usual chain
        (environment, profile, instance role) applies. `part_size` bounds the memory of `put`.
        """
        if prefix and (not prefix.endswith("/") or prefix.startswith("/")):
            raise ValueError("an S3 key prefix must end with '/' and not start with one")
        if prefix:
            validate_key(prefix.rstrip("/"))
        if part_size < _MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {_MIN_PART_SIZE} bytes (S3's minimum)")
        self.bucket = bucket
        self.region = region
        self.prefix = prefix
        self.create_bucket = create_bucket
        self.part_size = part_size
        self.endpoint_url = endpoint_url
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": addressing_style},
            # Only what S3 requires: newer botocore otherwise adds CRC trailers that some
            # S3-compatible servers reject.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            max_pool_connections=max_connections,
            retries={"mode": "standard"},
        )
        session = botocore.session.get_session()
        client_args: dict[str, Any] = {
            "region_name": region,
            "aws_access_key_id": access_key,
            "aws_secret_access_key": secret_key,
            "aws_session_token": session_token,
            "config": config,
        }
        self._client = session.create_client("s3", endpoint_url=endpoint_url, **client_args)
        self._signer = (
            session.create_client("s3", endpoint_url=public_endpoint_url, **client_args)
            if public_endpoint_url
            else self._client
        )

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def _call(self, fn: Callable[..., _T], /, **kwargs: Any) -> _T:
        return await anyio.to_thread.run_sync(
            functools.partial(_transient_as_unavailable, fn, **kwargs)
        )

    # --- the ObjectStore protocol ------------------------------------------------------------

    async def setup(self) -> None:
        """Check the bucket is reachable; create it when missing and `create_bucket` is set."""
        try:
            await self._call(self._client.head_bucket, Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _NOT_FOUND:
                raise StorageError(f"cannot use bucket {self.bucket!r}: {exc}") from exc
        if not self.create_bucket:
            raise StorageError(f"bucket {self.bucket!r} does not exist")
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            await self._call(self._client.create_bucket, **kwargs)
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":
                raise StorageError(f"cannot create bucket {self.bucket!r}: {exc}") from exc

    async def aclose(self) -> None:
        self._client.close()
        if self._signer is not self._client:
            self._signer.close()

    async def put(
        self, key: str, data: AsyncIterable[bytes], *, content_type: str | None = None
    ) -> ObjectInfo:
        """One PutObject (with a SHA-256 checksum S3 verifies and keeps) below `part_size`,
        else a multipart upload of `part_size` parts, aborted on any failure."""
        full = self._key(key)
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        digest = hashlib.sha256()
        buf = bytearray()
        iterator = aiter(data)
        async for chunk in iterator:
            buf += chunk
            if len(buf) >= self.part_size:
                break
        else:
            digest.update(buf)
            sha = digest.hexdigest()
            response = await self._call(
                self._client.put_object,
                Bucket=self.bucket,
                Key=full,
                Body=bytes(buf),
                ChecksumSHA256=hex_to_b64(sha),
                **extra,
            )
            return ObjectInfo(key, len(buf), content_type, _etag(response), sha)

        upload = await self._call(
            self._client.create_multipart_upload, Bucket=self.bucket, Key=full, **extra
        )
        upload_id = upload["UploadId"]
        parts: list[dict[str, Any]] = []
        size = 0
        try:
            while True:
                digest.update(buf)
                size += len(buf)
                response = await self._call(
                    self._client.upload_part,
                    Bucket=self.bucket,
                    Key=full,
                    UploadId=upload_id,
                    PartNumber=len(parts) + 1,
                    Body=buf,
                )
                parts.append({"PartNumber": len(parts) + 1, "ETag": response["ETag"]})
                buf.clear()
                async for chunk in iterator:
                    buf += chunk
                    if len(buf) >= self.part_size:
                        break
                if not buf:
                    break
            response = await self._call(
                self._client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=full,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._call(
                    self._client.abort_multipart_upload,
                    Bucket=self.bucket,
                    Key=full,
                    UploadId=upload_id,
                )
            raise
        return ObjectInfo(key, size, content_type, _etag(response), digest.hexdigest())

    async def open(self, key: str) -> ObjectReader:
        try:
            response = await self._call(
                self._client.get_object, Bucket=self.bucket, Key=self._key(key)
            )
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise ObjectNotFound(key) from None
            raise
        body = response["Body"]
        info = _info(key, response)

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await anyio.to_thread.run_sync(body.read, CHUNK_SIZE):
                yield chunk

        async def close() -> None:
            body.close()

        return ObjectReader(info, chunks(), close)

    async def head(self, key: str) -> ObjectInfo | None:
        try:
            response = await self._call(
                self._client.head_object,
                Bucket=self.bucket,
                Key=self._key(key),
                ChecksumMode="ENABLED",
            )
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return None
            raise
        return _info(key, response)

    async def exists(self, key: str) -> bool:
        return await self.head(key) is not None

    async def delete(self, key: str) -> None:
        await self._call(self._client.delete_object, Bucket=self.bucket, Key=self._key(key))

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
    ) -> PresignedRequest:
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        headers: dict[str, str] = {}
        check_expires_in(expires_in)
        if method == "PUT":
            # A presigned PUT cannot bound its size: `max_length` is checked by the caller
            # on the committed object.
            content_length, _ = check_put_size(content_length, max_length)
            if content_length is not None:
                params["ContentLength"] = content_length
                headers["Content-Length"] = str(content_length)
            if content_type is not None:
                params["ContentType"] = content_type
                headers["Content-Type"] = content_type
            sha = check_sha256(sha256)
            if sha is not None:
                params["ChecksumSHA256"] = hex_to_b64(sha)
                headers["x-amz-checksum-sha256"] = params["ChecksumSHA256"]
            operation = "put_object"
        elif method == "GET":
            if content_type is not None:
                params["ResponseContentType"] = content_type
            operation = "get_object"
        else:
            raise ValueError(f"method must be PUT or GET, not {method!r}")
        issued = datetime.now(UTC)
        url = self._signer.generate_presigned_url(
            operation, Params=params, ExpiresIn=expires_in, HttpMethod=method
        )
        return PresignedRequest(
            method=method,
            url=url,
            headers=headers,
            expires_at=issued + timedelta(seconds=expires_in),
        )

    async def commit(
        self, key: str, *, size: int | None = None, sha256: str | None = None
    ) -> ObjectInfo:
        expected_sha = check_sha256(sha256)
        info = await self.head(key)
        if info is None:
            raise ObjectNotFound(key, "upload")
        problem = None
        if size is not None and info.size != size:
            problem = f"stored size {info.size} differs from the declared {size}"
        elif expected_sha is not None:
            actual = info.sha256 or await self.sha256(key)
            info = ObjectInfo(info.key, info.size, info.content_type, info.etag, actual)
            if actual != expected_sha:
                problem = f"stored SHA-256 {actual} differs from the declared one"
        if problem:
            await self.delete(key)
            raise IntegrityError(key, problem)
        return info

    async def sha256(self, key: str) -> str:
        """Stream the object through one worker thread, hashing as it goes."""

        def run() -> str:
            try:
                response = _transient_as_unavailable(
                    self._client.get_object, Bucket=self.bucket, Key=self._key(key)
                )
            except ClientError as exc:
                if _code(exc) in _NOT_FOUND:
                    raise ObjectNotFound(key) from None
                raise
            digest = hashlib.sha256()
            with response["Body"] as body:
                while chunk := body.read(CHUNK_SIZE):
                    digest.update(chunk)
            return digest.hexdigest()

        return await anyio.to_thread.run_sync(run)


_TRANSIENT = (BotoConnectionError, EndpointConnectionError, ReadTimeoutError, ConnectionClosedError)


def _transient_as_unavailable(fn: Callable[..., _T], /, **kwargs: Any) -> _T:
    """Run one client call; a store that cannot be reached, or fails on its side (5xx, after
    botocore's own retries), raises `StoreUnavailable` (503 to API clients, worth a retry)."""
    try:
        return fn(**kwargs)
    except _TRANSIENT as exc:
        raise StoreUnavailable(f"object store unreachable: {exc}") from exc
    except ClientError as exc:
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if isinstance(status, int) and status >= 500:
            raise StoreUnavailable(f"object store failed: {exc}") from exc
        raise


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _etag(response: dict[str, Any]) -> str | None:
    etag = response.get("ETag")
    return etag.strip('"') if isinstance(etag, str) else None


def _info(key: str, response: dict[str, Any]) -> ObjectInfo:
    checksum = response.get("ChecksumSHA256")
    return ObjectInfo(
        key=key,
        size=int(response["ContentLength"]),
        content_type=response.get("ContentType"),
        etag=_etag(response),
        sha256=b64_to_hex(checksum) if isinstance(checksum, str) else None,
    )

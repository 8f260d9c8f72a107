"""Objects in any S3-compatible store (production), through botocore.

Clients upload and download with URLs presigned here (SigV4, computed locally), so their bytes
never pass through the API process. A presigned PUT binds `Content-Length` (and, when the
caller knows it, `x-amz-checksum-sha256`) into the signature: the store itself refuses a body of
another size (403 SignatureDoesNotMatch) or another hash (400 BadDigest). Both were checked
against SeaweedFS in `tests/storage`.

A presigned PUT lands under a staging key, `_uploads/<key>` (below the store's prefix), never
under the key itself: S3 cannot revoke a presigned URL, and this way a PUT after `commit` or
`delete` can neither change nor recreate the object. `commit` verifies the staged object (the
size from a HEAD, the SHA-256 from the checksum S3 verified at upload when the URL bound one,
else by streaming it once through a worker thread), then copies exactly the version it verified
(`CopySourceIfMatch` its ETag) to the key and removes the staging object. The copy happens
inside S3 (a few seconds per GiB on SeaweedFS), in parts above `single_copy_limit`. Late bytes
under a staging key are never readable and go with `remove_stale_uploads`.

Downloads are presigned with `response-content-disposition: attachment` (and the file name) and
the content type the caller names, so whatever Content-Type a client sent with its PUT is never
what a browser sees. S3 has no way to add `X-Content-Type-Options: nosniff` to a presigned GET;
the attachment disposition is what keeps a browser from rendering the bytes, and the bucket's
origin is not the API's.

Why botocore: it is the only candidate that binds Content-Length and the checksum into a
presigned PUT (obstore's `sign` signs the host only; an upload of any size was accepted), it
creates buckets, and it returns stored checksums. Its calls block, so each one runs in a worker
thread; the API process moves object bytes only for server-side `put`/`open`/`sha256`, where a
thread hop per MiB costs nothing measurable. aiobotocore would add aiohttp and a pinned botocore
for no gain here.
"""

from __future__ import annotations

import contextlib
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
    InvalidKey,
    Method,
    ObjectInfo,
    ObjectNotFound,
    ObjectReader,
    PresignedRequest,
    StorageError,
    StoreUnavailable,
    attachment,
    b64_to_hex,
    check_expires_in,
    check_prefix,
    check_put_size,
    check_sha256,
    hex_to_b64,
    validate_key,
)

__all__ = ["S3Store"]

AddressingStyle = Literal["path", "virtual", "auto"]
_T = TypeVar("_T")
_MIN_PART_SIZE = 5 * 1024 * 1024  # S3's minimum for every part but the last
_MAX_SINGLE_COPY = 5 * 1024**3  # CopyObject's limit; larger objects are copied part by part
_MAX_PARTS = 10_000
_COPY_PART_SIZE = 512 * 1024 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
_CHANGED = {"412", "PreconditionFailed"}
#: The first segment of staging keys; refused as the start of an object key.
UPLOADS = "_uploads"
_COMMIT_ATTEMPTS = 3


class S3Store:
    """An S3 bucket, optionally under a key prefix; see the module docstring."""

    uploads_isolated: ClassVar[bool] = True

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
        single_copy_limit: int = _MAX_SINGLE_COPY,
    ) -> None:
        """`public_endpoint_url` is the endpoint clients reach when it differs from the one the
        server uses (e.g. `http://seaweedfs:8333` inside a compose network); SigV4 signs the
        host, so URLs must be presigned for it. Without credentials botocore's usual chain
        (environment, profile, instance role) applies. `part_size` bounds the memory of `put`;
        `commit` copies objects larger than `single_copy_limit` part by part.
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
        self.single_copy_limit = min(single_copy_limit, _MAX_SINGLE_COPY)
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
        if validate_key(key).split("/", 1)[0] == UPLOADS:
            raise InvalidKey(f"object keys may not start with {UPLOADS}/ (the upload area)")
        return self.prefix + key

    def _staging(self, key: str) -> str:
        """Where a presigned PUT for `key` lands until `commit` copies it."""
        return f"{self.prefix}{UPLOADS}/{validate_key(key)}"

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

        size = 0
        async with self._multipart(full, **extra) as upload:
            while True:
                digest.update(buf)
                size += len(buf)
                await upload.add(self._client.upload_part, Body=buf)
                buf.clear()
                async for chunk in iterator:
                    buf += chunk
                    if len(buf) >= self.part_size:
                        break
                if not buf:
                    break
        return ObjectInfo(key, size, content_type, upload.etag, digest.hexdigest())

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
        await self._call(self._client.delete_object, Bucket=self.bucket, Key=self._staging(key))

    async def delete_prefix(self, prefix: str) -> int:
        check_prefix(prefix)
        removed = await self._delete_listed(self._key(prefix.rstrip("/")) + "/")
        await self._delete_listed(f"{self.prefix}{UPLOADS}/{prefix}")
        return removed

    async def remove_stale_uploads(self, *, before: datetime) -> int:
        return await self._delete_listed(f"{self.prefix}{UPLOADS}/", before=before)

    async def _delete_listed(self, full_prefix: str, *, before: datetime | None = None) -> int:
        """Delete the objects listed under `full_prefix` (modified before `before`, if given),
        a page of at most 1000 (one DeleteObjects) at a time."""
        removed = 0
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": full_prefix}
            if token:
                kwargs["ContinuationToken"] = token
            page = await self._call(self._client.list_objects_v2, **kwargs)
            doomed = [
                {"Key": item["Key"]}
                for item in page.get("Contents", [])
                if before is None or item["LastModified"] < before
            ]
            if doomed:
                response = await self._call(
                    self._client.delete_objects,
                    Bucket=self.bucket,
                    Delete={"Objects": doomed, "Quiet": True},
                )
                errors = response.get("Errors") or []
                if errors:
                    raise StorageError(f"could not delete {len(errors)} objects: {errors[0]}")
                removed += len(doomed)
            if not page.get("IsTruncated"):
                return removed
            token = page.get("NextContinuationToken")

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
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        headers: dict[str, str] = {}
        check_expires_in(expires_in)
        if method == "PUT":
            # A presigned PUT cannot bound its size: `max_length` is checked by the caller
            # on the committed object.
            content_length, _ = check_put_size(content_length, max_length)
            params["Key"] = self._staging(key)
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
            params["ResponseContentDisposition"] = attachment(file_name)
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
        staging = self._staging(key)
        for _ in range(_COMMIT_ATTEMPTS):
            staged = await self._head(staging)
            if staged is None:
                raise ObjectNotFound(key, "upload")
            problem = None
            actual = staged.sha256
            if size is not None and staged.size != size:
                problem = f"stored size {staged.size} differs from the declared {size}"
            elif expected_sha is not None:
                actual = actual or await self._hash(staging, key)
                if actual != expected_sha:
                    problem = f"stored SHA-256 {actual} differs from the declared one"
            if problem:
                await self._call(self._client.delete_object, Bucket=self.bucket, Key=staging)
                raise IntegrityError(key, problem)
            try:
                etag = await self._copy(staging, self._key(key), staged)
            except ClientError as exc:
                if _code(exc) in _CHANGED:  # a new PUT replaced what was verified: again
                    continue
                if _code(exc) in _NOT_FOUND:
                    raise ObjectNotFound(key, "upload") from None
                raise
            await self._call(self._client.delete_object, Bucket=self.bucket, Key=staging)
            return ObjectInfo(key, staged.size, staged.content_type, etag, actual)
        raise StoreUnavailable(f"the upload under {key!r} kept changing while it was committed")

    @contextlib.asynccontextmanager
    async def _multipart(self, full_key: str, **extra: Any) -> AsyncIterator[_Multipart]:
        """A multipart upload to `full_key`: parts are added inside the block, which completes
        it, or aborts it on any failure (also when cancelled) so no parts are left billed."""
        created = await self._call(
            self._client.create_multipart_upload, Bucket=self.bucket, Key=full_key, **extra
        )
        upload = _Multipart(self, full_key, created["UploadId"])
        try:
            yield upload
            response = await self._call(
                self._client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=full_key,
                UploadId=upload.upload_id,
                MultipartUpload={"Parts": upload.parts},
            )
            upload.etag = _etag(response)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._call(
                    self._client.abort_multipart_upload,
                    Bucket=self.bucket,
                    Key=full_key,
                    UploadId=upload.upload_id,
                )
            raise

    async def _head(self, full_key: str) -> ObjectInfo | None:
        try:
            response = await self._call(
                self._client.head_object, Bucket=self.bucket, Key=full_key, ChecksumMode="ENABLED"
            )
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return None
            raise
        return _info(full_key, response)

    async def _copy(self, source: str, target: str, verified: ObjectInfo) -> str | None:
        """Server-side copy of exactly the `verified` version of `source` (else a 412)."""
        copy_source = {"Bucket": self.bucket, "Key": source}
        condition = {"CopySourceIfMatch": f'"{verified.etag}"'} if verified.etag else {}
        if verified.size <= self.single_copy_limit:
            response = await self._call(
                self._client.copy_object,
                Bucket=self.bucket,
                Key=target,
                CopySource=copy_source,
                **condition,
            )
            return _etag(response.get("CopyObjectResult", {}))
        extra = {"ContentType": verified.content_type} if verified.content_type else {}
        part = max(
            self.part_size,
            min(_COPY_PART_SIZE, self.single_copy_limit),
            -(-verified.size // _MAX_PARTS),
        )
        async with self._multipart(target, **extra) as upload:
            for start in range(0, verified.size, part):
                end = min(start + part, verified.size) - 1
                await upload.add(
                    self._client.upload_part_copy,
                    CopySource=copy_source,
                    CopySourceRange=f"bytes={start}-{end}",
                    **condition,
                )
        return upload.etag

    async def sha256(self, key: str) -> str:
        """Stream the object through one worker thread, hashing as it goes."""
        return await self._hash(self._key(key), key)

    async def _hash(self, full_key: str, key: str) -> str:
        def run() -> str:
            try:
                response = _transient_as_unavailable(
                    self._client.get_object, Bucket=self.bucket, Key=full_key
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


class _Multipart:
    """The parts of one multipart upload, numbered as they are added."""

    def __init__(self, store: S3Store, full_key: str, upload_id: str) -> None:
        self._store = store
        self.full_key = full_key
        self.upload_id = upload_id
        self.parts: list[dict[str, Any]] = []
        self.etag: str | None = None  # the whole object's, once completed

    async def add(self, call: Callable[..., dict[str, Any]], **kwargs: Any) -> None:
        """Upload the next part with `call` (upload_part or upload_part_copy)."""
        number = len(self.parts) + 1
        response = await self._store._call(
            call,
            Bucket=self._store.bucket,
            Key=self.full_key,
            UploadId=self.upload_id,
            PartNumber=number,
            **kwargs,
        )
        etag = response.get("ETag") or response["CopyPartResult"]["ETag"]
        self.parts.append({"PartNumber": number, "ETag": etag})


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

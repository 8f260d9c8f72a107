"""What only the S3 store and the SeaweedFS fixture have: credentials, buckets, prefixes,
public endpoints, and two servers side by side."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from storage_helpers import PART_SIZE, chunks_of

from moderately.storage import (
    InvalidKey,
    ObjectInfo,
    S3Store,
    StorageError,
    open_store,
    store_from_url,
)
from moderately.storage.s3 import UPLOADS
from moderately.testing_s3 import S3Endpoint, run_seaweedfs

pytestmark = pytest.mark.anyio


async def test_credentials_from_aws_variables(seaweedfs: S3Endpoint) -> None:
    env = {"AWS_ACCESS_KEY_ID": seaweedfs.access_key, "AWS_SECRET_ACCESS_KEY": seaweedfs.secret_key}
    store = await open_store(seaweedfs.storage_url("creds-aws"), env=env)
    await store.aclose()


async def test_explicit_credentials_win_over_the_environment(seaweedfs: S3Endpoint) -> None:
    url = seaweedfs.storage_url("creds-explicit")
    store = store_from_url(url, env=seaweedfs.env(), secret_key="not-the-secret")
    with pytest.raises(StorageError):
        await store.setup()
    await store.aclose()
    store = await open_store(
        url, access_key=seaweedfs.access_key, secret_key=seaweedfs.secret_key, env={}
    )
    await store.aclose()


async def test_a_missing_bucket_is_not_created_when_told_so(seaweedfs: S3Endpoint) -> None:
    url = seaweedfs.storage_url("never-created") + "&create_bucket=false"
    store = store_from_url(url, env=seaweedfs.env())
    with pytest.raises(StorageError, match="does not exist"):
        await store.setup()
    await store.aclose()


async def test_keys_live_under_the_prefix(seaweedfs: S3Endpoint, s3_store: S3Store) -> None:
    url = seaweedfs.storage_url(f"{s3_store.bucket}/tenant-a")  # s3://bucket/tenant-a?...
    prefixed = await open_store(url, env=seaweedfs.env())
    assert isinstance(prefixed, S3Store) and prefixed.prefix == "tenant-a/"
    await prefixed.put("k", chunks_of(b"inside"))
    head = await s3_store.head("tenant-a/k")
    assert head is not None and head.size == 6
    await prefixed.delete("k")
    assert await s3_store.head("tenant-a/k") is None
    await prefixed.aclose()


async def test_presigning_for_a_public_endpoint(seaweedfs: S3Endpoint) -> None:
    url = seaweedfs.storage_url("public-endpoint") + "&public_endpoint=https://files.example.com"
    store = store_from_url(url, env=seaweedfs.env())
    request = await store.presign("GET", "k", expires_in=60)
    assert urlsplit(request.url).netloc == "files.example.com"
    await store.aclose()


async def test_commit_trusts_a_checksum_the_store_verified(
    s3_store: S3Store, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(1000)
    digest = hashlib.sha256(data).hexdigest()
    request = await s3_store.presign(
        "PUT", key, expires_in=60, content_length=len(data), sha256=digest
    )
    assert request.headers["x-amz-checksum-sha256"]
    async with httpx.AsyncClient() as client:
        assert (await client.put(request.url, content=data, headers=request.headers)).is_success

    async def no_reading(full_key: str, key: str) -> str:
        raise AssertionError("commit read the object")

    monkeypatch.setattr(s3_store, "_hash", no_reading)
    assert (await s3_store.commit(key, size=len(data), sha256=digest)).sha256 == digest


async def test_commit_hashes_when_no_checksum_was_bound(s3_store: S3Store, key: str) -> None:
    data = os.urandom(1000)
    request = await s3_store.presign("PUT", key, expires_in=60, content_length=len(data))
    async with httpx.AsyncClient() as client:
        assert (await client.put(request.url, content=data)).is_success
    assert await s3_store.head(key) is None  # staged until commit
    info = await s3_store.commit(key, sha256=hashlib.sha256(data).hexdigest())
    assert info.sha256 == hashlib.sha256(data).hexdigest()
    assert await (await s3_store.open(key)).read() == data


def test_two_servers_side_by_side(seaweedfs: S3Endpoint, tmp_path: Path) -> None:
    with run_seaweedfs(tmp_path / "second") as second:
        assert not set(second.ports.values()) & set(seaweedfs.ports.values())
        response = httpx.get(second.endpoint_url + "/")
        assert response.status_code == 403
        pid = second.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not list(Path("/tmp").glob(f"seaweedfs-*-{second.ports['s3.port']}.sock"))


async def test_commit_copies_the_version_it_verified(
    s3_store: S3Store, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A PUT landing between verification and copy is not copied under the old verdict: the
    copy is conditional on the verified ETag, and commit verifies the newer bytes instead."""
    request = await s3_store.presign("PUT", key, expires_in=60, content_length=5)
    async with httpx.AsyncClient() as client:
        assert (await client.put(request.url, content=b"first")).is_success
        real_copy = s3_store._copy
        copies = 0

        async def racing_copy(source: str, target: str, verified: ObjectInfo) -> str | None:
            nonlocal copies
            copies += 1
            if copies == 1:
                assert (await client.put(request.url, content=b"newer")).is_success
            return await real_copy(source, target, verified)

        monkeypatch.setattr(s3_store, "_copy", racing_copy)
        info = await s3_store.commit(key, size=5)
    assert copies == 2
    assert info.sha256 is None or info.sha256 == hashlib.sha256(b"newer").hexdigest()
    assert await (await s3_store.open(key)).read() == b"newer"


async def test_commit_copies_large_uploads_part_by_part(
    seaweedfs: S3Endpoint, s3_store: S3Store, key: str
) -> None:
    store = store_from_url(seaweedfs.storage_url(s3_store.bucket), env=seaweedfs.env())
    assert isinstance(store, S3Store)
    store.part_size = store.single_copy_limit = PART_SIZE  # 11 MiB: three parts
    data = os.urandom(2 * PART_SIZE + 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    request = await store.presign("PUT", key, expires_in=60, content_length=len(data))
    async with httpx.AsyncClient() as client:
        assert (await client.put(request.url, content=data)).is_success
    info = await store.commit(key, size=len(data), sha256=digest)
    assert info.size == len(data) and info.sha256 == digest
    assert await store.sha256(key) == digest
    assert await store.head(key) is not None
    await store.delete(key)
    await store.aclose()


async def test_the_upload_area_is_not_a_key(s3_store: S3Store) -> None:
    for bad in (f"{UPLOADS}/x", UPLOADS):
        with pytest.raises(InvalidKey):
            await s3_store.put(bad, chunks_of(b"x"))
    await s3_store.put(f"x/{UPLOADS}/y", chunks_of(b"fine below the top"))
    await s3_store.delete(f"x/{UPLOADS}/y")

"""The `ObjectStore` contract, run against local disk and a real S3 server (SeaweedFS).

Transfers use plain httpx against the URLs the stores presign, as the SDK will.
"""

from __future__ import annotations

import hashlib
import os
import re
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest
from storage_helpers import PART_SIZE, chunks_of

from moderately.storage import (
    IntegrityError,
    InvalidKey,
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    PresignedRequest,
    attachment,
)

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
REJECTED = (400, 403)  # S3 refuses a size mismatch with 403 (Content-Length is signed)


async def upload(
    request: PresignedRequest, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.put(
            request.url, content=body, headers=headers if headers is not None else request.headers
        )


async def download(url: str) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.get(url)


async def presigned_upload(
    store: ObjectStore, key: str, body: bytes, *, content_type: str | None = None
) -> None:
    request = await store.presign(
        "PUT", key, expires_in=60, content_length=len(body), content_type=content_type
    )
    response = await upload(request, body)
    assert response.status_code == 200, response.text


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1000, 12 * MiB + 7], ids=["empty", "small", "multipart"])
async def test_put_open_round_trip(store: ObjectStore, key: str, size: int) -> None:
    data = os.urandom(size)
    info = await store.put(key, chunks_of(data), content_type="application/pdf")
    assert (info.size, info.sha256) == (size, sha(data))

    head = await store.head(key)
    assert head is not None
    assert head.size == size
    assert head.content_type == "application/pdf"
    assert head.sha256 in (None, sha(data))  # known unless S3 stored it in parts
    assert await store.exists(key)

    async with await store.open(key) as reader:
        assert reader.info.size == size
        assert await reader.read() == data
    assert await store.sha256(key) == sha(data)


async def test_put_replaces_atomically(store: ObjectStore, key: str) -> None:
    await store.put(key, chunks_of(b"first"))
    await store.put(key, chunks_of(b"second version"))
    assert await (await store.open(key)).read() == b"second version"


async def test_streams_in_bounded_memory(store: ObjectStore, key: str) -> None:
    """48 MiB in and out while Python never holds more than a few parts of it."""
    total = 48 * MiB
    expected = hashlib.sha256()

    async def produce() -> AsyncIterator[bytes]:
        for _ in range(total // MiB):
            chunk = os.urandom(MiB)
            expected.update(chunk)
            yield chunk

    tracemalloc.start()
    try:
        info = await store.put(key, produce())
        _, peak_put = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        got = hashlib.sha256()
        size = 0
        async for chunk in await store.open(key):
            got.update(chunk)
            size += len(chunk)
        _, peak_get = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.size == size == total
    assert got.hexdigest() == expected.hexdigest() == info.sha256
    # about one chunk locally; one S3 part (PART_SIZE) plus a chunk on S3
    limit = 4 * MiB if isinstance(store, LocalStore) else PART_SIZE + 4 * MiB
    assert peak_put < limit, peak_put
    assert peak_get < 4 * MiB, peak_get


async def test_presigned_put_commit_get(store: ObjectStore, key: str) -> None:
    data = os.urandom(3 * MiB + 5)
    await presigned_upload(store, key, data, content_type="text/csv")

    info = await store.commit(key, size=len(data), sha256=sha(data))
    assert (info.size, info.sha256) == (len(data), sha(data))

    request = await store.presign("GET", key, expires_in=60)
    assert request.headers == {}
    response = await download(request.url)
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "text/csv"
    assert response.headers["content-length"] == str(len(data))


async def test_an_sdk_027_style_upload(store: ObjectStore, key: str) -> None:
    """0.2.7 sends the bytes with only its own Content-Type and no checksum header: a URL that
    binds neither must accept it, and the store records the type it was sent."""
    data = b"%PDF-1.7 ..."
    request = await store.presign("PUT", key, expires_in=60, content_length=len(data))
    async with httpx.AsyncClient() as client:
        response = await client.put(
            request.url, content=data, headers={"Content-Type": "application/pdf"}
        )
    assert response.status_code == 200
    info = await store.commit(key, size=len(data), sha256=sha(data))
    assert info.content_type == "application/pdf"


async def test_upload_of_unknown_size(store: ObjectStore, key: str) -> None:
    """`max_length` instead of `content_length` (0.2.7 asks for a data upload URL before it says
    the size): any body up to the maximum lands; the committed size tells what arrived."""
    data = b"a,b\n1,2\n3,4\n"
    request = await store.presign("PUT", key, expires_in=60, max_length=1000)
    assert "Content-Length" not in request.headers
    async with httpx.AsyncClient() as client:
        response = await client.put(request.url, content=data, headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    info = await store.commit(key, size=None, sha256=sha(data))
    assert info.size == len(data)
    assert await (await store.open(key)).read() == data
    if isinstance(store, LocalStore):  # S3 cannot bound a presigned PUT; callers check the size
        again = await store.presign("PUT", key, expires_in=60, max_length=10)
        assert (await upload(again, b"x" * 11)).status_code == 400
        async with httpx.AsyncClient() as client:
            streamed = await client.put(again.url, content=chunks_of(b"x" * 50, 5))
        assert streamed.status_code == 400
    with pytest.raises(ValueError):
        await store.presign("PUT", key, expires_in=60)


async def test_presigned_get_can_set_the_content_type(store: ObjectStore, key: str) -> None:
    await store.put(key, chunks_of(b"<html></html>"), content_type="text/html")
    request = await store.presign("GET", key, expires_in=60, content_type="text/plain")
    response = await download(request.url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain"


async def test_signed_checksum_is_enforced_by_the_store(store: ObjectStore, key: str) -> None:
    """With `sha256` bound into the URL the store refuses other bytes at PUT time, and commit
    can trust what it kept without reading it again."""
    data = b"the declared content"
    request = await store.presign(
        "PUT", key, expires_in=60, content_length=len(data), sha256=sha(data)
    )
    forged = b"the declared contenT"
    assert (await upload(request, forged)).status_code in REJECTED
    assert await store.head(key) is None
    with pytest.raises(ObjectNotFound):
        await store.commit(key, size=len(forged), sha256=sha(forged))

    assert (await upload(request, data)).status_code == 200
    info = await store.commit(key, size=len(data), sha256=sha(data))
    assert info.sha256 == sha(data)
    head = await store.head(key)
    assert head is not None and head.sha256 == sha(data)  # vouched for, no re-read needed


async def test_signed_content_type_is_enforced(store: ObjectStore, key: str) -> None:
    data = b"a,b\n1,2\n"
    request = await store.presign(
        "PUT", key, expires_in=60, content_length=len(data), content_type="text/csv"
    )
    wrong = {**request.headers, "Content-Type": "text/html"}
    assert (await upload(request, data, headers=wrong)).status_code in REJECTED
    assert (await upload(request, data)).status_code == 200


async def test_expired_urls_are_rejected(store: ObjectStore, key: str) -> None:
    await store.put(key, chunks_of(b"old"))
    get = await store.presign("GET", key, expires_in=1)
    put = await store.presign("PUT", key, expires_in=1, content_length=3)
    await anyio.sleep(2.2)
    assert (await download(get.url)).status_code == 403
    assert (await upload(put, b"new")).status_code == 403
    assert await (await store.open(key)).read() == b"old"


def _signature(url: str) -> str:
    match = re.search(r"[0-9a-f]{64}$", url)
    assert match, url  # both stores end their URLs with a hex HMAC-SHA256
    return match.group(0)


async def test_tampered_urls_are_rejected(store: ObjectStore, key: str) -> None:
    await store.put(key, chunks_of(b"secret"))
    other = key.replace("/object", "/other")
    await store.put(other, chunks_of(b"public"))
    url = (await store.presign("GET", key, expires_in=60)).url
    other_url = (await store.presign("GET", other, expires_in=60)).url

    flipped = url[:-1] + ("0" if url[-1] != "0" else "1")
    assert (await download(flipped)).status_code == 403
    # another object's URL carrying this object's valid signature
    spliced = other_url[: -len(_signature(other_url))] + _signature(url)
    assert (await download(spliced)).status_code == 403
    assert (await download(url)).status_code == 200

    # a URL for a big upload carrying the valid signature of a small one
    small = await store.presign("PUT", key, expires_in=60, content_length=6)
    big = await store.presign("PUT", key, expires_in=60, content_length=600)
    forged = big.url[: -len(_signature(big.url))] + _signature(small.url)
    async with httpx.AsyncClient() as client:
        assert (await client.put(forged, content=b"w" * 600)).status_code == 403
    assert await (await store.open(key)).read() == b"secret"


async def test_wrong_method_is_rejected(store: ObjectStore, key: str) -> None:
    await store.put(key, chunks_of(b"content"))
    get = await store.presign("GET", key, expires_in=60)
    put = await store.presign("PUT", key, expires_in=60, content_length=7)
    async with httpx.AsyncClient() as client:
        assert (await client.put(get.url, content=b"changed")).status_code == 403
        assert (await client.get(put.url)).status_code == 403
    assert await (await store.open(key)).read() == b"content"


@pytest.mark.parametrize("sent", [1001, 999], ids=["longer", "shorter"])
async def test_body_of_another_size_is_rejected(store: ObjectStore, key: str, sent: int) -> None:
    request = await store.presign("PUT", key, expires_in=60, content_length=1000)
    response = await upload(request, b"x" * sent, headers={})
    assert response.status_code in REJECTED
    assert await store.head(key) is None
    with pytest.raises(ObjectNotFound):
        await store.commit(key)


async def test_streamed_body_without_length_is_rejected(store: ObjectStore, key: str) -> None:
    """A chunked upload cannot sneak past the signed size: S3 sees no signed Content-Length,
    the local store counts and stops at the first excess byte."""
    request = await store.presign("PUT", key, expires_in=60, content_length=1000)
    async with httpx.AsyncClient() as client:
        response = await client.put(request.url, content=chunks_of(b"x" * 5000, 1000))
    assert response.status_code in REJECTED
    assert await store.head(key) is None


async def test_uploads_become_visible_only_through_commit(store: ObjectStore, key: str) -> None:
    data = b"pending bytes"
    await presigned_upload(store, key, data)
    assert store.uploads_isolated
    assert await store.head(key) is None
    assert not await store.exists(key)
    with pytest.raises(ObjectNotFound):
        await store.open(key)
    with pytest.raises(ObjectNotFound):
        await store.sha256(key)
    await store.commit(key, size=len(data), sha256=sha(data))
    assert await (await store.open(key)).read() == data


async def test_a_second_upload_before_commit_replaces_the_first(
    store: ObjectStore, key: str
) -> None:
    await presigned_upload(store, key, b"first try")
    await presigned_upload(store, key, b"final try")
    await store.commit(key, size=9, sha256=sha(b"final try"))
    assert await (await store.open(key)).read() == b"final try"


@pytest.mark.parametrize("wrong", ["size", "sha256"])
async def test_commit_with_wrong_declaration_removes_the_upload(
    store: ObjectStore, key: str, wrong: str
) -> None:
    data = b"what was really sent"
    await presigned_upload(store, key, data)
    declared = {"size": len(data), "sha256": sha(data)}
    declared[wrong] = len(data) + 1 if wrong == "size" else sha(b"something else")
    with pytest.raises(IntegrityError) as caught:
        await store.commit(key, **declared)  # type: ignore[arg-type]
    assert wrong.replace("sha256", "SHA-256") in caught.value.reason
    assert await store.head(key) is None
    with pytest.raises(ObjectNotFound):
        await store.commit(key, size=len(data), sha256=sha(data))


async def test_commit_without_upload(store: ObjectStore, key: str) -> None:
    with pytest.raises(ObjectNotFound):
        await store.commit(key, size=0)


async def test_delete_is_idempotent_and_removes_uploads(store: ObjectStore, key: str) -> None:
    await store.delete(key)
    await store.put(key, chunks_of(b"bytes"))
    await store.delete(key)
    await store.delete(key)
    assert await store.head(key) is None
    with pytest.raises(ObjectNotFound):
        await store.open(key)

    await presigned_upload(store, key, b"pending")
    await store.delete(key)
    with pytest.raises(ObjectNotFound):
        await store.commit(key)


async def test_a_put_after_commit_cannot_change_the_object(store: ObjectStore, key: str) -> None:
    """The stores accept it into their upload area at most (the API's routes refuse it on local
    disk); the committed object stays, and the late bytes can never be committed over it
    unnoticed: a second commit of them would be a new, verified upload."""
    request = await store.presign("PUT", key, expires_in=60, content_length=5)
    assert (await upload(request, b"first")).status_code == 200
    await store.commit(key, size=5, sha256=sha(b"first"))
    assert (await upload(request, b"later")).status_code == 200
    assert await (await store.open(key)).read() == b"first"
    assert (await store.head(key)) is not None
    await store.delete(key)  # the late upload goes with the object
    with pytest.raises(ObjectNotFound):
        await store.commit(key)


async def test_delete_prefix_removes_objects_and_uploads_below_it(
    store: ObjectStore, key: str
) -> None:
    base = key.rsplit("/", 1)[0]
    for name in ("a", "b/c", "b/d/e"):
        await store.put(f"{base}/team/{name}", chunks_of(b"x"))
    await presigned_upload(store, f"{base}/team/b/pending", b"waiting")
    await store.put(f"{base}/team-other", chunks_of(b"kept: not below the prefix"))
    await store.put(f"{base}/other/a", chunks_of(b"kept"))
    assert await store.delete_prefix(f"{base}/team/") == 3
    for name in ("a", "b/c", "b/d/e"):
        assert await store.head(f"{base}/team/{name}") is None
    with pytest.raises(ObjectNotFound):
        await store.commit(f"{base}/team/b/pending")
    assert await store.exists(f"{base}/team-other")
    assert await store.exists(f"{base}/other/a")
    assert await store.delete_prefix(f"{base}/team/") == 0  # missing is fine
    for bad in (f"{base}/team", "../x/", "/"):
        with pytest.raises(InvalidKey):
            await store.delete_prefix(bad)


async def test_remove_stale_uploads_spares_fresh_ones_and_objects(
    store: ObjectStore, key: str
) -> None:
    await store.put(key, chunks_of(b"committed"))
    await presigned_upload(store, f"{key}-pending", b"waiting")
    assert await store.remove_stale_uploads(before=datetime.now(UTC) - timedelta(hours=1)) >= 0
    await store.commit(f"{key}-pending", size=7)  # still there: it is fresh
    await presigned_upload(store, f"{key}-stale", b"stale")
    assert await store.remove_stale_uploads(before=datetime.now(UTC) + timedelta(minutes=1)) >= 1
    with pytest.raises(ObjectNotFound):
        await store.commit(f"{key}-stale")
    assert await (await store.open(key)).read() == b"committed"
    assert await store.exists(f"{key}-pending")


async def test_downloads_are_attachments_under_their_name(store: ObjectStore, key: str) -> None:
    await store.put(key, chunks_of(b"<b>hi</b>"), content_type="text/html")
    name = "naïve report.html"
    request = await store.presign(
        "GET", key, expires_in=60, content_type="text/plain", file_name=name
    )
    response = await download(request.url)
    assert response.status_code == 200 and response.content == b"<b>hi</b>"
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["content-disposition"] == attachment(name)
    plain = await download((await store.presign("GET", key, expires_in=60)).url)
    assert plain.headers["content-disposition"] == "attachment"


def test_attachment_is_rfc_6266() -> None:
    assert attachment(None) == attachment("") == "attachment"
    assert attachment("a.csv") == "attachment; filename=\"a.csv\"; filename*=UTF-8''a.csv"
    tricky = attachment('x"\\/\r\n%;.txt')
    assert "\r" not in tricky and "\n" not in tricky
    assert tricky.startswith('attachment; filename="x______;.txt"; ')  # quote, \\, /, CR, LF, %
    assert tricky.endswith("filename*=UTF-8''x%22%5C%2F%0D%0A%25%3B.txt")
    assert attachment("Été.pdf").startswith('attachment; filename="Ete.pdf"; ')


async def test_missing_objects(store: ObjectStore, key: str) -> None:
    assert await store.head(key) is None
    assert not await store.exists(key)
    with pytest.raises(ObjectNotFound):
        await store.open(key)
    with pytest.raises(ObjectNotFound):
        await store.sha256(key)
    response = await download((await store.presign("GET", key, expires_in=60)).url)
    assert response.status_code == 404


async def test_sha256_streams_large_objects(store: ObjectStore, key: str) -> None:
    data = os.urandom(7 * MiB + 3)
    await store.put(key, chunks_of(data, MiB))
    assert await store.sha256(key) == sha(data)


@pytest.mark.parametrize(
    "bad", ["", "/abs", "a//b", "a/", "../x", "a/../b", "a/./b", "a\\b", "a\nb", "x" * 1025]
)
async def test_unsafe_keys_are_refused(store: ObjectStore, bad: str) -> None:
    with pytest.raises(InvalidKey):
        await store.put(bad, chunks_of(b"x"))
    with pytest.raises(InvalidKey):
        await store.presign("PUT", bad, expires_in=60, content_length=1)
    with pytest.raises(InvalidKey):
        await store.head(bad)


async def test_presign_arguments_are_checked(store: ObjectStore, key: str) -> None:
    with pytest.raises(ValueError):
        await store.presign("PUT", key, expires_in=60)  # no size
    with pytest.raises(ValueError):
        await store.presign("GET", key, expires_in=0)
    with pytest.raises(ValueError):
        await store.presign("GET", key, expires_in=8 * 24 * 3600)
    with pytest.raises(ValueError):
        await store.presign("PUT", key, expires_in=60, content_length=1, sha256="abc")

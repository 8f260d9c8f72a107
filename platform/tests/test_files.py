"""Files end to end over real HTTP, on SQLite with the local store and on PostgreSQL with S3
(SeaweedFS): the API calls, then the presigned PUT and GET with plain httpx, as the SDK makes them.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat
import tracemalloc
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import assert_error
from files_helpers import (
    Member,
    complete,
    download,
    expired_request,
    get,
    key_of,
    member,
    put,
    request_upload,
    send_partial_put,
    server_store,
    sha,
    upload,
)

from moderately.composition import signing_secret
from moderately.config import Settings
from moderately.db.session import Database
from moderately.errors import InvalidState
from moderately.services import files as files_service
from moderately.services.auth import authenticate
from moderately.storage import LocalStore, ObjectNotFound, ObjectStore
from moderately.testing import RunningServer
from moderately.timeutil import utcnow

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


@pytest.fixture
async def alice(live_server: RunningServer) -> AsyncIterator[Member]:
    async with member(live_server) as who:
        yield who


@pytest.fixture
async def bob(live_server: RunningServer) -> AsyncIterator[Member]:
    """Another team: never sees alice's files."""
    async with member(live_server) as who:
        yield who


@pytest.fixture
async def store(live_server: RunningServer) -> AsyncIterator[ObjectStore]:
    async with server_store(live_server) as opened:
        yield opened


async def file_of(who: Member, file_id: str) -> dict[str, Any]:
    response = await who.client.get(f"/files/{file_id}")
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


async def nothing_stored(store: ObjectStore, key: str) -> bool:
    """No committed object and no upload waiting under `key`."""
    if await store.head(key) is not None:
        return False
    try:
        await store.commit(key)
    except ObjectNotFound:
        return True
    return False


# ---- the happy path ----


@pytest.mark.parametrize("size", [0, 1000, 6 * MiB + 3], ids=["empty", "small", "6MiB"])
async def test_round_trip(alice: Member, size: int) -> None:
    data = os.urandom(size)
    ticket = await request_upload(
        alice, data, fileName="report.pdf", mimeType="application/pdf", metadata={"k": "v"}
    )
    pending = ticket["file"]
    assert pending["uploadStatus"] == "pending"
    assert ticket["uploadUrl"].startswith("http")
    assert ticket["expiresAt"].endswith("Z")
    assert ticket["uploadHeaders"]["Content-Length"] == str(size)
    # not downloadable before complete
    assert_error(await alice.client.get(f"/files/{pending['fileId']}/download"), 400)

    assert (
        await put(ticket["uploadUrl"], data, {"Content-Type": "application/pdf"})
    ).status_code == 200
    done = await complete(alice, pending["fileId"], data)
    assert done.status_code == 200, done.text
    file = done.json()
    assert file["uploadStatus"] == "completed"
    assert file["fileSize"] == size and file["fileHash"] == sha(data)
    assert (file["fileName"], file["originalName"]) == ("report.pdf", "report.pdf")
    assert file["mimeType"] == "application/pdf" and file["metadata"] == {"k": "v"}
    assert file["uploadedBy"] == alice.user_id and file["teamId"] == alice.team_id
    assert file["datasetId"] is None and "failureReason" not in file
    assert await file_of(alice, file["fileId"]) == file

    link = await alice.client.get(f"/files/{file['fileId']}/download")
    assert set(link.json()) == {"downloadUrl", "expiresAt", "fileHash", "fileSize"}
    assert (link.json()["fileHash"], link.json()["fileSize"]) == (sha(data), size)  # extension
    fetched = await get(link.json()["downloadUrl"])
    assert fetched.status_code == 200
    assert fetched.content == data
    assert fetched.headers["content-type"] == "application/pdf"
    assert fetched.headers["content-length"] == str(size)


async def test_upload_url_defaults(alice: Member, live_server: RunningServer) -> None:
    ticket = await request_upload(alice, b"x", fileHash="SHA256:" + sha(b"x").upper())
    file = ticket["file"]
    assert file["mimeType"] == "application/octet-stream"
    assert file["metadata"] == {}
    assert file["fileHash"] == "SHA256:" + sha(b"x").upper()  # echoed as sent
    expires = ticket["expiresAt"]
    assert expires > file["createdAt"]
    # ... and the hash, however spelled, still verifies and finds the file
    await put(ticket["uploadUrl"], b"x")
    assert (
        await complete(alice, file["fileId"], b"x", fileHash="sha256:" + sha(b"x"))
    ).status_code == 200


async def test_sdk_027_snake_body_without_hash(alice: Member) -> None:
    """`get_upload_url(filename, file_size, mime_type, dataset_id)` of 0.2.7: snake keys, no hash
    (required at complete instead); the PUT carries the declared Content-Type."""
    data = b"id,name\n1,a\n"
    response = await alice.client.post(
        "/files/upload-url",
        json={
            "filename": "t.csv",
            "file_size": len(data),
            "mime_type": "text/csv",
            "team_id": alice.team_id,
        },
    )
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["file"]["fileHash"] is None and ticket["file"]["mimeType"] == "text/csv"
    assert (await put(ticket["uploadUrl"], data, {"Content-Type": "text/csv"})).status_code == 200
    done = await alice.client.post(
        f"/files/{ticket['file']['fileId']}/complete",
        json={"file_size": len(data), "file_hash": sha(data)},
    )
    assert done.status_code == 200, done.text
    assert done.json()["fileHash"] == sha(data)
    assert (await download(alice, ticket["file"]["fileId"])).content == data

    # the other spellings of the name
    for key in ("file_name", "fileName"):
        body = {key: f"{key}.txt", "fileSize": 1}
        assert (await alice.client.post("/files/upload-url", json=body)).json()["file"][
            "fileName"
        ] == f"{key}.txt"
    # a hash is needed somewhere
    missing = await alice.client.post(
        f"/files/{ticket['file']['fileId']}/complete", json={"fileSize": 1}
    )
    assert_error(missing, 400)


async def test_repeated_upload_url_with_idempotency_key(alice: Member) -> None:
    headers = {"Idempotency-Key": "upload-once"}
    body = {"fileName": "once.txt", "fileSize": 3}
    first = await alice.client.post("/files/upload-url", json=body, headers=headers)
    second = await alice.client.post("/files/upload-url", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    listed = await alice.client.get("/files", params={"nameLike": "once.txt"})
    assert listed.json()["pagination"]["totalItems"] == 1


async def test_signed_checksum(alice: Member) -> None:
    """Extension: signChecksum binds the hash into the URL; the store refuses other bytes."""
    data = b"exactly these bytes"
    ticket = await request_upload(alice, data, signChecksum=True)
    headers = ticket["uploadHeaders"]
    forged = await put(ticket["uploadUrl"], b"x" * len(data), headers)
    assert forged.status_code in (400, 403), forged.text
    assert (await put(ticket["uploadUrl"], data, headers)).status_code == 200
    assert (await complete(alice, ticket["file"]["fileId"], data)).status_code == 200


async def test_transfers_stream_in_bounded_memory(alice: Member) -> None:
    """32 MiB up and down (through the server's own routes on the local store; hashed by the
    server at complete on S3): the process never holds more than a few chunks of it."""
    chunk, count = os.urandom(MiB), 32
    digest = hashlib.sha256()
    for _ in range(count):
        digest.update(chunk)
    size = len(chunk) * count
    body = {"fileName": "big.bin", "fileSize": size, "fileHash": digest.hexdigest()}
    ticket = (await alice.client.post("/files/upload-url", json=body)).json()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(count):
            yield chunk

    tracemalloc.start()
    try:
        async with httpx.AsyncClient(timeout=60) as transfer:
            sent = await transfer.put(
                ticket["uploadUrl"],
                content=chunks(),
                # JSON, so the wire middleware (which reads JSON bodies) must let it stream
                headers={"Content-Length": str(size), "Content-Type": "application/json"},
            )
            assert sent.status_code == 200, sent.text
            done = await alice.client.post(
                f"/files/{ticket['file']['fileId']}/complete",
                json={"fileSize": size, "fileHash": digest.hexdigest()},
                timeout=60,
            )
            assert done.status_code == 200, done.text
            link = (await alice.client.get(f"/files/{done.json()['fileId']}/download")).json()
            received = hashlib.sha256()
            async with transfer.stream("GET", link["downloadUrl"]) as response:
                async for part in response.aiter_bytes():
                    received.update(part)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert received.hexdigest() == digest.hexdigest()
    assert peak < 12 * MiB, f"peak {peak / MiB:.1f} MiB for a {size // MiB} MiB transfer"


# ---- bad input ----


async def test_upload_above_the_limit_is_refused(alice: Member, live_server: RunningServer) -> None:
    limit = live_server.settings.max_upload_bytes
    response = await alice.client.post(
        "/files/upload-url", json={"fileName": "big", "fileSize": limit + 1}
    )
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert body["details"][0]["field"] == "fileSize" and str(limit) in body["message"]
    document = (await alice.client.get("/openapi.json")).json()
    schema = document["components"]["schemas"]["FileUploadUrlCreate"]
    assert schema["properties"]["fileSize"]["maximum"] == limit
    assert (await alice.client.get("/files")).json()["pagination"]["totalItems"] == 0


async def test_bad_upload_url_bodies(alice: Member) -> None:
    for body in (
        {"fileSize": 1},  # no name
        {"fileName": "a", "fileSize": -1},
        {"fileName": "a", "fileSize": 1, "fileHash": "abc"},
        {"fileName": "a", "fileSize": 1, "mimeType": "not a type"},
        {"fileName": "", "fileSize": 1},
    ):
        assert_error(await alice.client.post("/files/upload-url", json=body), 400)
    dataset = await alice.client.post(
        "/files/upload-url", json={"fileName": "a", "fileSize": 1, "datasetId": "nope"}
    )
    assert assert_error(dataset, 404)["message"] == "dataset nope not found"


async def test_wrong_hash_at_complete_fails_the_file(alice: Member, store: ObjectStore) -> None:
    data = b"the real content"
    ticket = await request_upload(alice, data, fileHash=None)
    file_id = ticket["file"]["fileId"]
    assert (await put(ticket["uploadUrl"], data)).status_code == 200
    response = await complete(alice, file_id, data, fileHash=sha(b"something else"))
    body = assert_error(response, 400)
    assert body["details"][0]["field"] == "file" and "SHA-256" in body["message"]
    failed = await file_of(alice, file_id)
    assert failed["uploadStatus"] == "failed" and "SHA-256" in failed["failureReason"]
    assert await nothing_stored(store, key_of(failed))
    assert_error(await alice.client.get(f"/files/{file_id}/download"), 400)
    again = await complete(alice, file_id, data)
    assert_error(again, 409, "CONFLICT")
    assert again.headers["x-should-retry"] == "false"


async def test_other_bytes_than_declared_fail_the_file(alice: Member, store: ObjectStore) -> None:
    """Same size, other content: the URL accepts it (no checksum bound), complete does not."""
    data = b"declared content"
    ticket = await request_upload(alice, data)
    assert (await put(ticket["uploadUrl"], b"D" * len(data))).status_code == 200
    response = await complete(alice, ticket["file"]["fileId"], data)
    assert assert_error(response, 400)["details"][0]["field"] == "file"
    failed = await file_of(alice, ticket["file"]["fileId"])
    assert failed["uploadStatus"] == "failed"
    assert await nothing_stored(store, key_of(failed))


@pytest.mark.parametrize("declared", ["size", "hash"])
async def test_complete_must_match_the_declaration(
    alice: Member, store: ObjectStore, declared: str
) -> None:
    data = b"twelve bytes"
    ticket = await request_upload(alice, data)
    await put(ticket["uploadUrl"], data)
    wrong = {"fileSize": 13} if declared == "size" else {"fileHash": sha(b"other")}
    response = await complete(alice, ticket["file"]["fileId"], data, **wrong)
    assert "upload-url" in assert_error(response, 400)["message"]
    failed = await file_of(alice, ticket["file"]["fileId"])
    assert failed["uploadStatus"] == "failed" and "upload-url" in failed["failureReason"]
    assert await nothing_stored(store, key_of(failed))


async def test_complete_without_bytes_keeps_the_file_pending(alice: Member) -> None:
    data = b"never sent"
    ticket = await request_upload(alice, data)
    response = await complete(alice, ticket["file"]["fileId"], data)
    assert assert_error(response, 400)["details"][0]["field"] == "file"
    assert (await file_of(alice, ticket["file"]["fileId"]))["uploadStatus"] == "pending"
    # the client can still send the bytes and complete
    assert (await put(ticket["uploadUrl"], data)).status_code == 200
    assert (await complete(alice, ticket["file"]["fileId"], data)).status_code == 200
    again = await complete(alice, ticket["file"]["fileId"], data)
    assert_error(again, 409)


@pytest.mark.parametrize("cut", ["half", "nothing"])
async def test_interrupted_upload_leaves_nothing(
    alice: Member, store: ObjectStore, cut: str
) -> None:
    data = os.urandom(256 * 1024)
    ticket = await request_upload(alice, data)
    sent = data[: len(data) // 2] if cut == "half" else b""
    await send_partial_put(ticket["uploadUrl"], len(data), sent)
    await asyncio.sleep(0.1)  # let the receiving side notice the dropped connection
    assert await nothing_stored(store, key_of(ticket["file"]))
    response = await complete(alice, ticket["file"]["fileId"], data)
    assert assert_error(response, 400)["details"][0]["field"] == "file"
    # a body longer than announced is refused too
    too_long = await put(ticket["uploadUrl"], data + b"!")
    assert too_long.status_code in (400, 403)
    assert await nothing_stored(store, key_of(ticket["file"]))
    assert (await put(ticket["uploadUrl"], data)).status_code == 200
    assert (await complete(alice, ticket["file"]["fileId"], data)).status_code == 200
    assert (await download(alice, ticket["file"]["fileId"])).content == data


async def test_expired_urls(alice: Member, live_server: RunningServer, store: ObjectStore) -> None:
    data = b"late"
    ticket = await request_upload(alice, data)
    key = key_of(ticket["file"])
    late_put = await expired_request(live_server, store, "PUT", key, len(data))
    response = await put(late_put.url, data)
    assert response.status_code == 403
    if isinstance(store, LocalStore):
        assert_error(response, 403, "FORBIDDEN")
    assert await nothing_stored(store, key)
    assert_error(await complete(alice, ticket["file"]["fileId"], data), 400)

    done = await upload(alice, b"early")
    late_get = await expired_request(live_server, store, "GET", key_of(done))
    assert (await get(late_get.url)).status_code == 403


def _flip_signature(url: str) -> str:
    """Change one hex digit of the signature (both stores end their URLs with it)."""
    return url[:-1] + ("0" if url[-1] != "0" else "1")


async def test_tampered_urls(alice: Member, store: ObjectStore) -> None:
    data = b"original"
    ticket = await request_upload(alice, data)
    response = await put(_flip_signature(ticket["uploadUrl"]), data)
    assert response.status_code == 403
    if isinstance(store, LocalStore):
        assert_error(response, 403, "FORBIDDEN")
    assert await nothing_stored(store, key_of(ticket["file"]))
    # another file's URL carrying this one's valid signature
    other = await request_upload(alice, data)
    if isinstance(store, LocalStore):
        signature = ticket["uploadUrl"].rsplit(".", 1)[1]
        spliced = other["uploadUrl"].rsplit(".", 1)[0] + "." + signature
    else:
        spliced = ticket["uploadUrl"].replace(ticket["file"]["fileId"], other["file"]["fileId"])
    assert (await put(spliced, data)).status_code == 403
    assert await nothing_stored(store, key_of(other["file"]))

    done = await upload(alice, b"downloadable")
    link = (await alice.client.get(f"/files/{done['fileId']}/download")).json()["downloadUrl"]
    assert (await get(_flip_signature(link))).status_code == 403
    assert (await get(link)).content == b"downloadable"


async def test_wrong_methods(alice: Member, store: ObjectStore) -> None:
    data = b"content"
    ticket = await request_upload(alice, data)
    assert (await get(ticket["uploadUrl"])).status_code == 403
    done = await upload(alice, data)
    link = (await alice.client.get(f"/files/{done['fileId']}/download")).json()["downloadUrl"]
    assert (await put(link, b"changed")).status_code == 403
    if isinstance(store, LocalStore):  # S3 answers other methods in its own ways
        for method in ("POST", "DELETE", "PATCH"):
            assert_error(await get(link, method), 403, "FORBIDDEN")
    assert (await get(link)).content == data


async def test_download_needs_a_completed_file(alice: Member) -> None:
    ticket = await request_upload(alice, b"pending")
    response = await alice.client.get(f"/files/{ticket['file']['fileId']}/download")
    assert "upload not completed" in assert_error(response, 400)["message"]


# ---- isolation ----


async def test_another_teams_file_is_not_found_anywhere(alice: Member, bob: Member) -> None:
    done = await upload(alice, b"alice's secret")
    pending = (await request_upload(alice, b"alice's draft"))["file"]
    for file_id in (done["fileId"], pending["fileId"]):
        for method, path, body in [
            ("GET", f"/files/{file_id}", None),
            ("PATCH", f"/files/{file_id}", {"fileName": "pwned"}),
            ("DELETE", f"/files/{file_id}", None),
            ("POST", f"/files/{file_id}/complete", {"fileSize": 1, "fileHash": sha(b"x")}),
            ("GET", f"/files/{file_id}/download", None),
        ]:
            response = await bob.client.request(method, path, json=body)
            assert_error(response, 404, "NOT_FOUND")
    listed = await bob.client.get(
        "/files", params={"fileIds": f"{done['fileId']},{pending['fileId']}"}
    )
    assert listed.json()["items"] == []
    by_hash = await bob.client.get("/files", params={"fileHashes": done["fileHash"]})
    assert by_hash.json()["items"] == []
    assert_error(await bob.client.get("/files", params={"teamIds": alice.team_id}), 403)
    intruder = await bob.client.post(
        "/files/upload-url", json={"fileName": "x", "fileSize": 1, "teamId": alice.team_id}
    )
    assert_error(intruder, 403)
    # alice's files are as they were
    assert await file_of(alice, done["fileId"]) == done
    assert (await download(alice, done["fileId"])).content == b"alice's secret"
    assert (await file_of(alice, pending["fileId"]))["uploadStatus"] == "pending"


async def test_readonly_token_cannot_write(alice: Member, live_server: RunningServer) -> None:
    created = await alice.client.post("/api-tokens", json={"name": "ro", "role": "readonly"})
    token = created.json()["token"]
    done = await upload(alice, b"shared")
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live_server.base_url, headers=headers) as reader:
        assert (await reader.get(f"/files/{done['fileId']}")).status_code == 200
        assert (await reader.get(f"/files/{done['fileId']}/download")).status_code == 200
        assert_error(
            await reader.post("/files/upload-url", json={"fileName": "x", "fileSize": 1}), 403
        )
        assert_error(await reader.delete(f"/files/{done['fileId']}"), 403)
        assert_error(await reader.patch(f"/files/{done['fileId']}", json={"name": "x"}), 403)


# ---- list, update, delete ----


async def test_filters_and_sorting(alice: Member) -> None:
    completed_csv = await upload(alice, b"a,b\n", fileName="b-table.csv", mimeType="text/csv")
    completed_pdf = await upload(
        alice, b"%PDF-1.7 ....", fileName="a-report.pdf", mimeType="application/pdf"
    )
    pending = (
        await request_upload(
            alice, b"zzzzzzzzzzzzzzzzzzzz", fileName="c-draft.txt", mimeType="text/plain"
        )
    )["file"]
    failing = await request_upload(alice, b"x", fileName="d-broken.txt", mimeType="text/plain")
    await put(failing["uploadUrl"], b"x")
    await complete(alice, failing["file"]["fileId"], b"x", fileSize=2)
    ids = {
        "csv": completed_csv["fileId"],
        "pdf": completed_pdf["fileId"],
        "pending": pending["fileId"],
        "failed": failing["file"]["fileId"],
    }

    async def names(**params: Any) -> list[str]:
        response = await alice.client.get("/files", params=params)
        assert response.status_code == 200, response.text
        return [item["fileName"] for item in response.json()["items"]]

    # default: newest first, 20 per page
    page = (await alice.client.get("/files")).json()
    assert page["pagination"]["pageSize"] == 20
    assert [i["fileId"] for i in page["items"]] == [
        ids["failed"],
        ids["pending"],
        ids["pdf"],
        ids["csv"],
    ]
    assert await names(orderBy="fileName", orderDirection="asc") == [
        "a-report.pdf",
        "b-table.csv",
        "c-draft.txt",
        "d-broken.txt",
    ]
    assert await names(order_by="name", order_direction="desc") == [
        "d-broken.txt",
        "c-draft.txt",
        "b-table.csv",
        "a-report.pdf",
    ]
    assert (await names(orderBy="file_size", orderDirection="asc"))[-1] == "c-draft.txt"
    assert (await names(orderBy="updatedAt"))[0] == "d-broken.txt"
    assert await names(nameLike="REPORT") == ["a-report.pdf"]
    assert await names(nameLike="%") == []
    assert sorted(await names(mimeTypes="text/csv,application/pdf")) == [
        "a-report.pdf",
        "b-table.csv",
    ]
    assert await names(mime_type="text/csv") == ["b-table.csv"]
    assert await names(
        fileIds=f"{ids['csv']},{ids['pending']}", orderBy="fileName", orderDirection="asc"
    ) == ["b-table.csv", "c-draft.txt"]
    digest = completed_pdf["fileHash"]
    for spelled in (digest, digest.upper(), f"sha256:{digest}", f"SHA256:{digest.upper()}"):
        assert await names(fileHashes=spelled) == ["a-report.pdf"], spelled
    assert await names(fileHashes=f"{sha(b'none')},{completed_csv['fileHash']}") == ["b-table.csv"]
    for value, expected in [
        ("completed", {"a-report.pdf", "b-table.csv"}),
        ("ready", {"a-report.pdf", "b-table.csv"}),
        ("uploaded", {"a-report.pdf", "b-table.csv"}),
        ("pending", {"c-draft.txt"}),
        ("processing", {"c-draft.txt"}),
        ("failed", {"d-broken.txt"}),
        ("error", {"d-broken.txt"}),
    ]:
        assert set(await names(uploadStatus=value)) == expected, value
        assert set(await names(status=value)) == expected, value
    assert await names(datasetId="nope") == []
    assert await names(dataset_id="nope") == []
    assert len(await names(pageSize=100)) == 4
    two = (await alice.client.get("/files", params={"page_size": 2, "page": 2})).json()
    assert two["pagination"] == {
        "page": 2,
        "pageSize": 2,
        "totalItems": 4,
        "totalPages": 2,
        "hasNextPage": False,
        "hasPreviousPage": True,
    }
    for params in (
        {"pageSize": 101},
        {"pageSize": 0},
        {"orderBy": "mimeType"},
        {"uploadStatus": "done"},
    ):
        assert_error(await alice.client.get("/files", params=params), 400)


async def test_update(alice: Member) -> None:
    done = await upload(alice, b"content", fileName="first.txt", metadata={"a": 1})
    path = f"/files/{done['fileId']}"
    renamed = (await alice.client.patch(path, json={"fileName": "second.txt"})).json()
    assert (renamed["fileName"], renamed["originalName"]) == ("second.txt", "first.txt")
    assert renamed["metadata"] == {"a": 1}
    assert (await alice.client.patch(path, json={"name": "third.txt"})).json()[
        "fileName"
    ] == "third.txt"
    replaced = (await alice.client.patch(path, json={"metadata": {"b": [1, 2]}})).json()
    assert replaced["metadata"] == {"b": [1, 2]} and replaced["fileName"] == "third.txt"
    assert replaced["updatedAt"] >= done["updatedAt"]
    unlinked = await alice.client.patch(path, json={"dataset_id": None})
    assert unlinked.status_code == 200 and unlinked.json()["datasetId"] is None
    missing = await alice.client.patch(path, json={"datasetId": "nope"})
    assert assert_error(missing, 404)["message"] == "dataset nope not found"
    assert_error(await alice.client.patch(path, json={"fileName": ""}), 400)
    assert (await file_of(alice, done["fileId"]))["fileName"] == "third.txt"


async def test_delete_removes_the_bytes(alice: Member, store: ObjectStore) -> None:
    done = await upload(alice, b"to be deleted")
    link = (await alice.client.get(f"/files/{done['fileId']}/download")).json()["downloadUrl"]
    response = await alice.client.delete(f"/files/{done['fileId']}")
    assert response.status_code == 204 and response.content == b""
    assert await nothing_stored(store, key_of(done))
    assert_error(await alice.client.get(f"/files/{done['fileId']}"), 404)
    assert_error(await alice.client.delete(f"/files/{done['fileId']}"), 404)
    assert (await get(link)).status_code == 404  # the bytes are gone

    # a pending file with bytes waiting
    ticket = await request_upload(alice, b"half way")
    await put(ticket["uploadUrl"], b"half way")
    assert (await alice.client.delete(f"/files/{ticket['file']['fileId']}")).status_code == 204
    assert await nothing_stored(store, key_of(ticket["file"]))


async def test_deleting_a_team_removes_its_bytes(
    live_server: RunningServer, store: ObjectStore
) -> None:
    async with member(live_server) as owner:
        done = await upload(owner, b"team bytes")
        assert (await owner.client.delete(f"/teams/{owner.team_id}")).status_code == 200
        assert await nothing_stored(store, key_of(done))


# ---- pending uploads that are never completed ----


async def test_expired_pending_uploads_are_failed_and_removed(
    alice: Member, live_server: RunningServer, store: ObjectStore
) -> None:
    fresh = await request_upload(alice, b"still time")
    stale = await request_upload(alice, b"forgotten")
    await put(stale["uploadUrl"], b"forgotten")
    settings: Settings = live_server.settings
    storage = files_service.Storage(
        store=store,
        max_upload_bytes=settings.max_upload_bytes,
        upload_ttl_seconds=settings.upload_url_ttl_seconds,
        download_ttl_seconds=settings.download_url_ttl_seconds,
        pending_grace_seconds=settings.pending_upload_grace_seconds,
    )
    database = Database(settings)
    try:
        # nothing is stale yet
        assert await files_service.expire_pending_uploads(database, storage) == 0
        # an hour and a half later, the upload URL (1 h) and the grace (1 h) are not both over
        soon = utcnow() + timedelta(hours=1, minutes=30)
        assert await files_service.expire_pending_uploads(database, storage, now=soon) == 0
        later = utcnow() + timedelta(hours=2, minutes=1)
        async with database.session() as session:  # the lazy path: complete after the deadline
            principal = await authenticate(session, token=alice.api_key)
            with pytest.raises(InvalidState, match="expired"):
                await files_service.complete_upload(
                    session,
                    principal=principal,
                    storage=storage,
                    file_id=fresh["file"]["fileId"],
                    file_size=10,
                    file_hash=sha(b"still time"),
                    now=later,
                )
        assert await files_service.expire_pending_uploads(database, storage, now=later) >= 1
    finally:
        await database.dispose()
    for ticket in (fresh, stale):
        failed = await file_of(alice, ticket["file"]["fileId"])
        assert failed["uploadStatus"] == "failed"
        assert "expired" in failed["failureReason"]
        assert await nothing_stored(store, key_of(failed))
    assert_error(await complete(alice, stale["file"]["fileId"], b"forgotten"), 409)


# ---- the storage routes and the local secret ----


async def test_storage_routes(live_server: RunningServer, store: ObjectStore) -> None:
    document = httpx.get(f"{live_server.base_url}/openapi.json").json()
    assert not any(path.startswith("/_storage") for path in document["paths"])
    response = await get(f"{live_server.base_url}/_storage/download/garbage")
    if isinstance(store, LocalStore):
        assert_error(response, 403, "FORBIDDEN")
    else:  # clients talk to S3 directly; the server serves no bytes
        assert_error(response, 404, "NOT_FOUND")


def test_signing_secret_is_made_once_and_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = signing_secret(settings)
    assert len(first) >= 32
    mode = stat.S_IMODE(settings.signing_secret_file.stat().st_mode)
    assert mode == 0o600
    assert signing_secret(settings) == first  # a restart reads the same secret
    assert signing_secret(Settings(data_dir=tmp_path / "data", signing_secret="s" * 20)) == "s" * 20
    assert [p.name for p in settings.data_dir.iterdir()] == ["signing_secret"]


def test_processes_starting_together_agree_on_the_secret(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = Settings(data_dir=tmp_path)
    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(lambda _: signing_secret(settings), range(32)))
    assert len(secrets) == 1

"""Helpers for the files tests: accounts on a live server, the upload flow, raw transfers."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import botocore.auth
import httpx
from api_helpers import unique_email

from moderately.composition import open_object_store, signing_secret
from moderately.storage import LocalStore, ObjectStore, PresignedRequest, S3Store
from moderately.storage.s3 import UPLOADS
from moderately.testing import RunningServer


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Member:
    """A user of a live server with an API client (base URL and token set)."""

    api_key: str
    team_id: str
    user_id: str
    client: httpx.AsyncClient


@asynccontextmanager
async def member(server: RunningServer, **kwargs: Any) -> AsyncIterator[Member]:
    """A new user (admin of a new team, or `team_id=` member) with a client."""
    credentials = await asyncio.to_thread(server.create_user, unique_email("files"), **kwargs)
    headers = {"Authorization": f"Bearer {credentials.api_key}"}
    async with httpx.AsyncClient(base_url=server.base_url, headers=headers) as client:
        yield Member(credentials.api_key, credentials.team_id, credentials.user_id, client)


async def request_upload(who: Member, data: bytes, **body: Any) -> dict[str, Any]:
    payload = {"fileName": "data.bin", "fileSize": len(data), "fileHash": sha(data), **body}
    response = await who.client.post("/files/upload-url", json=payload)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def put(url: str, data: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
    """A presigned PUT from a fresh client with no API headers, as the SDK sends it."""
    async with httpx.AsyncClient() as transfer:
        return await transfer.put(url, content=data, headers=headers or {})


async def get(url: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient() as transfer:
        return await transfer.request(method, url)


async def complete(who: Member, file_id: str, data: bytes, **body: Any) -> httpx.Response:
    payload = {"fileSize": len(data), "fileHash": sha(data), **body}
    return await who.client.post(f"/files/{file_id}/complete", json=payload)


async def upload(who: Member, data: bytes, **body: Any) -> dict[str, Any]:
    """The whole upload flow (upload-url, PUT, complete); returns the completed file."""
    ticket = await request_upload(who, data, **body)
    response = await put(ticket["uploadUrl"], data)
    assert response.status_code == 200, response.text
    done = await complete(who, ticket["file"]["fileId"], data)
    assert done.status_code == 200, done.text
    result: dict[str, Any] = done.json()
    return result


async def download(who: Member, file_id: str) -> httpx.Response:
    response = await who.client.get(f"/files/{file_id}/download")
    assert response.status_code == 200, response.text
    return await get(response.json()["downloadUrl"])


def key_of(file: dict[str, Any]) -> str:
    return f"teams/{file['teamId']}/files/{file['fileId']}"


@asynccontextmanager
async def server_store(server: RunningServer) -> AsyncIterator[ObjectStore]:
    """The server's own object store, opened from its settings (same directory or bucket)."""
    store = await open_object_store(server.settings)
    try:
        yield store
    finally:
        await store.aclose()


async def stored_keys(store: ObjectStore, prefix: str) -> list[str]:
    """Every object and upload stored under `prefix` (a key, or a prefix ending with "/");
    uploads as `upload:<key>`. Listed straight from the disk or the bucket."""
    if isinstance(store, LocalStore):
        found = []
        for area, mark in (("objects", ""), ("uploads", "upload:")):
            top = store.root / area
            below = top / prefix
            paths = [below] if below.is_file() else below.rglob("*") if below.is_dir() else []
            found += [mark + p.relative_to(top).as_posix() for p in paths if p.is_file()]
        return sorted(found)
    assert isinstance(store, S3Store)
    found = []
    for listed, mark in ((prefix, ""), (f"{UPLOADS}/{prefix}", "upload:")):
        pages = store._client.get_paginator("list_objects_v2").paginate(
            Bucket=store.bucket, Prefix=store.prefix + listed
        )
        for page in await asyncio.to_thread(list, pages):
            for item in page.get("Contents", []):
                key = item["Key"].removeprefix(store.prefix)
                found.append(mark + key.removeprefix(f"{UPLOADS}/"))
    return sorted(found)


@contextmanager
def _clock_of_boto(at: float) -> Iterator[None]:
    from datetime import UTC, datetime

    with mock.patch.object(
        botocore.auth, "get_current_datetime", lambda: datetime.fromtimestamp(at, UTC)
    ):
        yield


async def expired_request(
    server: RunningServer, store: ObjectStore, method: str, key: str, size: int | None = None
) -> PresignedRequest:
    """A URL exactly like the server's, signed an hour ago for ten minutes."""
    then = time.time() - 3600
    if isinstance(store, LocalStore):
        past = LocalStore(
            store.root, signing_secret=signing_secret(server.settings), clock=lambda: then
        )
        kind = "upload" if method == "PUT" else "download"
        return await past.presign(
            method,  # type: ignore[arg-type]
            key,
            expires_in=600,
            content_length=size,
            base_url=f"{server.base_url}/_storage/{kind}",
        )
    with _clock_of_boto(then):
        return await store.presign(method, key, expires_in=600, content_length=size)  # type: ignore[arg-type]


async def send_partial_put(url: str, declared: int, sent: bytes) -> None:
    """A PUT that announces `declared` bytes, sends `sent`, then drops the connection."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    head = (
        f"PUT {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Content-Length: {declared}\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    writer.write(head.encode("latin-1") + sent)
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    del reader

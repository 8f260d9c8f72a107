"""Async only: a transfer cancelled halfway leaves no temporary file and no open file behind."""

from pathlib import Path
from typing import Any, AsyncIterator, List

import anyio
import httpx
import pytest

from moderatelyai_sdk import AsyncModeratelyAI

from ._async.test_transfer import DATA, FakePlatform

pytestmark = pytest.mark.anyio


class Stalls(httpx.AsyncByteStream):
    """Delivers one piece, cancels the caller's scope, then never delivers the rest."""

    def __init__(self, piece: bytes, scope: anyio.CancelScope) -> None:
        self.piece, self.scope = piece, scope

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.piece
        self.scope.cancel()
        await anyio.sleep_forever()


async def test_cancelled_download_leaves_nothing(tmp_path: Path) -> None:
    platform = FakePlatform()
    scopes: List[anyio.CancelScope] = []
    storage = platform.storage

    def stalling(request: httpx.Request) -> httpx.Response:
        response = storage(request)
        if request.method == "GET":
            headers = {"Content-Length": str(len(DATA))}
            return httpx.Response(200, headers=headers, stream=Stalls(DATA[:1000], scopes[0]))
        return response

    platform.storage = stalling  # type: ignore[method-assign]
    http = httpx.AsyncClient(transport=httpx.MockTransport(platform))
    options: Any = {"api_key": "k", "team_id": "team_1", "base_url": "http://api.test"}
    async with AsyncModeratelyAI(http_client=http, **options) as client:
        file = await client.files.upload(DATA)
        with anyio.CancelScope() as scope:
            scopes.append(scope)
            await client.files.download(file.file_id, path=tmp_path / "out.bin")
        assert scope.cancelled_caught
    await http.aclose()
    assert list(tmp_path.iterdir()) == []

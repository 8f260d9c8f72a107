"""A server's rate limit (429, Retry-After, X-Should-Retry: true) seen through the client: the
call waits as told and goes through once the token's bucket has refilled."""

from pathlib import Path
from typing import Any, List

import httpx
import pytest

from moderatelyai_sdk import AsyncModeratelyAI, RateLimitError

pytestmark = pytest.mark.anyio


async def test_a_rate_limited_call_is_retried_after_the_refill(tmp_path: Path) -> None:
    testing = pytest.importorskip("moderately.testing", reason="platform package not installed")
    # 60 a minute: one request a second once the minute's burst is spent.
    with testing.run_server(data_dir=tmp_path, rate_limit_per_minute=60, workers=0) as server:
        statuses: List[int] = []

        async def record(response: httpx.Response) -> None:
            statuses.append(response.status_code)

        options: Any = {"api_key": server.admin.api_key, "team_id": server.admin.team_id}
        async with httpx.AsyncClient(event_hooks={"response": [record]}) as http:
            client = AsyncModeratelyAI(
                base_url=server.base_url, http_client=http, max_retries=0, **options
            )
            with pytest.raises(RateLimitError):
                for _ in range(1000):
                    await client.agents.list()
            assert statuses[-1] == 429

            page = await client.with_options(max_retries=2).agents.list()
        assert page["items"] == []
        # Refused once more, waited the server's Retry-After (a second), then through.
        assert statuses[-2:] == [429, 200]

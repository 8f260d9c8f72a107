"""SDK overhead per typed call, over raw httpx on the same in-memory transport.

Both sides send through one ``httpx.MockTransport`` that answers a canned wire response, so the
network and the server are out of the picture: what remains is what the SDK adds (building the
request, the retry loop, parsing into models, pages). Sync and async; target <= 15 us added
(issue 12). The "+ options" rows give a call request options (a timeout and a header; raw httpx
sends the same), and logging is off as it is by default.

Raw httpx and the SDK are timed in alternating runs (raw, SDK, raw, SDK, ...), so that a busy
machine slows both alike; each row shows the best run of each side, the difference of the
bests, and the median over the pairs of runs of their difference.

    python benchmarks/sdk_overhead.py [--calls N] [--repeats R]
"""

import argparse
import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from moderatelyai_sdk import AsyncModeratelyAI, ModeratelyAI

TARGET_US = 15.0
# Wall time by default; ``--clock cpu`` counts this thread's CPU time instead, which leaves out the
# time other processes hold the cores (both sides alike) on a shared machine.
CLOCK: list[Callable[[], float]] = [time.perf_counter]
BASE = "http://bench.local"
# The raw call sends what the SDK sends, so only the SDK's own work is measured.
HEADERS = {
    "Authorization": "Bearer key",
    "Accept": "application/json",
    "Content-Type": "application/json",
    "User-Agent": "moderatelyai-python/bench",
}
TRACE = {"X-Trace-Id": "bench"}
STAMP = "2025-08-22T20:14:27.504Z"
AGENT = {
    "agentId": "agent_123",
    "teamId": "team_1",
    "name": "Support",
    "description": "Answers questions",
    "createdAt": STAMP,
    "updatedAt": STAMP,
    "lastRunAt": None,
    "totalRuns": 12,
    "successfulRuns": 11,
    "successRate": 91.7,
}
USERS = {
    "items": [
        {"userId": f"user_{i}", "fullName": f"User {i}", "createdAt": STAMP, "updatedAt": STAMP}
        for i in range(10)
    ],
    "pagination": {
        "page": 1,
        "pageSize": 10,
        "totalItems": 10,
        "totalPages": 1,
        "hasNextPage": False,
        "hasPreviousPage": False,
    },
}
BODIES = {"/agents/agent_123": json.dumps(AGENT).encode(), "/users": json.dumps(USERS).encode()}


def handler(request: httpx.Request) -> httpx.Response:
    body = BODIES[request.url.path]
    return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})


Row = tuple[str, float, float, float]  # name, best raw us, best SDK us, median added us


def alternate(
    name: str, raw: Callable[[int], float], sdk: Callable[[int], float], calls: int, repeats: int
) -> Row:
    """Time ``raw`` and ``sdk`` (each runs n calls and answers the seconds taken) in turns."""
    raw(min(calls, 300))  # warm up caches and pools
    sdk(min(calls, 300))
    pairs = [(raw(calls), sdk(calls)) for _ in range(repeats)]
    best_raw = min(raw_s for raw_s, _ in pairs) / calls * 1e6
    best_sdk = min(sdk_s for _, sdk_s in pairs) / calls * 1e6
    median = statistics.median(sdk_s - raw_s for raw_s, sdk_s in pairs) / calls * 1e6
    return name, best_raw, best_sdk, median


def sync_cases(calls: int, repeats: int) -> list[Row]:
    raw = httpx.Client(transport=httpx.MockTransport(handler))
    sdk = ModeratelyAI(
        api_key="key",
        team_id="team_1",
        base_url=BASE,
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )

    def timed(call: Callable[[], Any]) -> Callable[[int], float]:
        def run(n: int) -> float:
            start = CLOCK[0]()
            for _ in range(n):
                call()
            return CLOCK[0]() - start

        return run

    def raw_get(
        path: str, params: dict[str, str], extra: dict[str, str] | None = None
    ) -> Callable[[], Any]:
        headers = {**HEADERS, **(extra or {})}
        timeout = 5 if extra else httpx.USE_CLIENT_DEFAULT

        def call() -> Any:
            response = raw.get(BASE + path, params=params, headers=headers, timeout=timeout)
            response.raise_for_status()
            return response.json()

        return call

    paging = {"page": "1", "pageSize": "10", "orderBy": "createdAt", "orderDirection": "desc"}
    rows = [
        alternate(
            "sync  agents.retrieve(id)",
            timed(raw_get("/agents/agent_123", {"teamIds": "team_1"})),
            timed(lambda: sdk.agents.retrieve("agent_123")),
            calls,
            repeats,
        ),
        alternate(
            "sync  retrieve + options",
            timed(raw_get("/agents/agent_123", {"teamIds": "team_1"}, TRACE)),
            timed(lambda: sdk.agents.retrieve("agent_123", timeout=5, extra_headers=TRACE)),
            calls,
            repeats,
        ),
        alternate(
            "sync  users.list()",
            timed(raw_get("/users", {"teamIds": "team_1", **paging})),
            timed(sdk.users.list),
            calls,
            repeats,
        ),
    ]
    raw.close()
    sdk._http.close()
    return rows


async def async_cases(calls: int, repeats: int) -> list[Row]:
    raw = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    sdk = AsyncModeratelyAI(
        api_key="key",
        team_id="team_1",
        base_url=BASE,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    )

    async def alternate_async(
        name: str, raw: Callable[[], Awaitable[Any]], sdk: Callable[[], Awaitable[Any]]
    ) -> Row:
        async def run(call: Callable[[], Awaitable[Any]], n: int) -> float:
            start = CLOCK[0]()
            for _ in range(n):
                await call()
            return CLOCK[0]() - start

        await run(raw, min(calls, 300))  # warm up caches and pools
        await run(sdk, min(calls, 300))
        pairs = [(await run(raw, calls), await run(sdk, calls)) for _ in range(repeats)]
        best_raw = min(raw_s for raw_s, _ in pairs) / calls * 1e6
        best_sdk = min(sdk_s for _, sdk_s in pairs) / calls * 1e6
        median = statistics.median(sdk_s - raw_s for raw_s, sdk_s in pairs) / calls * 1e6
        return name, best_raw, best_sdk, median

    def raw_get(
        path: str, params: dict[str, str], extra: dict[str, str] | None = None
    ) -> Callable[[], Awaitable[Any]]:
        headers = {**HEADERS, **(extra or {})}
        timeout = 5 if extra else httpx.USE_CLIENT_DEFAULT

        async def call() -> Any:
            response = await raw.get(BASE + path, params=params, headers=headers, timeout=timeout)
            response.raise_for_status()
            return response.json()

        return call

    paging = {"page": "1", "pageSize": "10", "orderBy": "createdAt", "orderDirection": "desc"}
    rows = [
        await alternate_async(
            "async agents.retrieve(id)",
            raw_get("/agents/agent_123", {"teamIds": "team_1"}),
            lambda: sdk.agents.retrieve("agent_123"),
        ),
        await alternate_async(
            "async retrieve + options",
            raw_get("/agents/agent_123", {"teamIds": "team_1"}, TRACE),
            lambda: sdk.agents.retrieve("agent_123", timeout=5, extra_headers=TRACE),
        ),
        await alternate_async(
            "async users.list()",
            raw_get("/users", {"teamIds": "team_1", **paging}),
            sdk.users.list,
        ),
    ]
    await raw.aclose()
    await sdk._http.aclose()
    return rows


def seam_costs(repeats: int) -> list[tuple[str, float]]:
    """What the request options and the logging hooks cost a call that uses none of them: each
    step the request path runs for them, timed alone (best of ``repeats`` runs of 200,000)."""
    import logging
    import timeit

    from moderatelyai_sdk import _base_client, _logs
    from moderatelyai_sdk._async import _response

    settings = _base_client.resolve_settings(
        api_key="key", team_id="team_1", base_url=BASE, default_headers=None, default_query=None
    )
    timeout = _base_client.DEFAULT_TIMEOUT
    retry = _base_client.RetryConfig()
    response = httpx.Response(200, headers={"x-request-id": "r"})
    steps = {
        "options: the call's timeout and retries": lambda: (
            _base_client.call_timeout({}, timeout),
            _base_client.call_retry({}, retry),
        ),
        "options: split from **kwargs (none there)": lambda: _base_client.split_options({}),
        "logging off: isEnabledFor(DEBUG)": lambda: _logs.logger.isEnabledFor(logging.DEBUG),
        "raw responses off: note_response": lambda: _response.note_response(response),
    }
    baseline = min(
        timeit.repeat(
            lambda: _base_client.prepare_request(settings, "GET", "/agents/a"),
            number=200_000,
            repeat=repeats,
        )
    )
    rows = [("prepare_request, for scale (reference)", baseline / 200_000 * 1e6)]
    for name, step in steps.items():
        best = min(timeit.repeat(step, number=200_000, repeat=repeats))
        rows.append((name, best / 200_000 * 1e6))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per timed run")
    parser.add_argument(
        "--repeats", type=int, default=7, help="timed runs of each side, alternating"
    )
    parser.add_argument(
        "--clock", choices=["wall", "cpu"], default="wall", help="what a timed run measures"
    )
    args = parser.parse_args()
    if args.clock == "cpu":
        CLOCK[0] = time.thread_time

    rows = sync_cases(args.calls, args.repeats) + asyncio.run(async_cases(args.calls, args.repeats))
    print(
        f"{'case':27} {'raw httpx':>10} {'SDK':>10} {'added':>10} {'ratio':>6} {'median added':>13}"
    )
    worst = 0.0
    for name, raw_us, sdk_us, median in rows:
        added = sdk_us - raw_us
        worst = max(worst, added)
        print(
            f"{name:27} {raw_us:8.1f}us {sdk_us:8.1f}us {added:+8.1f}us {sdk_us / raw_us:5.2f}x"
            f" {median:+11.1f}us"
        )
    verdict = "within" if worst <= TARGET_US else "ABOVE"
    print(f"worst added: {worst:.1f} us per call ({verdict} the {TARGET_US:.0f} us target)")
    print()
    costs = seam_costs(args.repeats)
    added = 0.0
    for name, us in costs:
        print(f"{name:50} {us:6.3f} us")
        if "reference" not in name:
            added += us
    verdict = "within" if added <= 2.0 else "ABOVE"
    print(f"options and logging, none used: {added:.2f} us per call ({verdict} the 2 us target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

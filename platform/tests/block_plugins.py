"""Block types that only tests use, registered on import. The test process imports it (its API
validates configurations) and so do the worker and job processes, through the `job_modules`
setting (conftest.py puts this folder on PYTHONPATH for them).

* `test_sleep`: waits `seconds` (cooperative: cancel and pause stop it at once);
* `test_spin`: busy on the CPU for `seconds` without ever yielding (only the worker can stop it);
* `test_hog`: holds `megabytes` MiB of touched memory for `seconds`;
* `test_crash`: kills its own process (a poison job);
* `test_raise`: raises an exception whose text holds what no client may read (`RAISED_TEXT`:
  a path on the server, an object key, SQL).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from typing import Any

from pydantic import BaseModel

from moderately.engine import BlockType, Port
from moderately.engine.registry import block, find_block_type

SLEEP, SPIN, HOG, CRASH = "test_sleep", "test_spin", "test_hog", "test_crash"
RAISE = "test_raise"
RAISED_TEXT = (
    "cannot read /srv/moderately/objects/teams/t1/files/f1 "
    "[SQL: SELECT token_hash FROM api_tokens WHERE token_id = ?]"
)
MODULE = "block_plugins"


class Seconds(BaseModel):
    seconds: float = 10.0


class Hog(BaseModel):
    megabytes: int = 512
    seconds: float = 30.0


class _PassThrough(BlockType[Any]):
    inputs = (Port("data", primary=True),)
    outputs = (Port("data", primary=True),)


class Sleep(_PassThrough):
    config_model = Seconds

    async def run(self, ctx: Any, config: Seconds, inputs: dict[str, Any]) -> Any:
        await asyncio.sleep(config.seconds)
        return {"data": inputs.get("data")}


class Spin(_PassThrough):
    config_model = Seconds

    async def run(self, ctx: Any, config: Seconds, inputs: dict[str, Any]) -> Any:
        end = time.monotonic() + config.seconds
        while time.monotonic() < end:
            sum(range(1000))
        return {"data": inputs.get("data")}


class MemoryHog(_PassThrough):
    config_model = Hog

    async def run(self, ctx: Any, config: Hog, inputs: dict[str, Any]) -> Any:
        held = bytearray(config.megabytes * 1024 * 1024)
        for offset in range(0, len(held), 4096):  # touch every page: resident, not reserved
            held[offset] = 1
        await asyncio.sleep(config.seconds)
        return {"data": len(held)}


class Crash(_PassThrough):
    config_model = Seconds

    async def run(self, ctx: Any, config: Seconds, inputs: dict[str, Any]) -> Any:
        os.kill(os.getpid(), signal.SIGKILL)
        return {"data": None}


class Raise(_PassThrough):
    config_model = Seconds

    async def run(self, ctx: Any, config: Seconds, inputs: dict[str, Any]) -> Any:
        raise RuntimeError(RAISED_TEXT)


for _name, _cls in (
    (SLEEP, Sleep),
    (SPIN, Spin),
    (HOG, MemoryHog),
    (CRASH, Crash),
    (RAISE, Raise),
):
    if find_block_type(_name) is None:
        block(_name)(_cls)

"""A slow block for tests that need an execution to stay running (cancel, timeouts).

The server's API runs in this process (conftest ``server``) and validates configurations, so
the block is registered here; its jobs run in worker processes, which import this module
through the server's ``job_modules`` setting (conftest.py sets ``MODERATELY_JOB_MODULES`` and
``PYTHONPATH``). Kept outside the generated ``_async``/``_sync`` trees because the block itself
is a coroutine on both sides.
"""

import asyncio
import contextlib
from typing import Any, Dict

SLOW = "sdk_test_sleep"
MODULE = "tests.pipeline_blocks"


def register_slow_block() -> None:
    """Register the block unless it is (importing this module does it, where the platform is)."""
    from moderately.engine import BlockType, Port
    from moderately.engine.registry import block, find_block_type
    from pydantic import BaseModel

    if find_block_type(SLOW) is not None:
        return

    class SleepConfig(BaseModel):
        seconds: float = 30.0

    class Sleep(BlockType[SleepConfig]):
        config_model = SleepConfig
        inputs = (Port("data", primary=True),)
        outputs = (Port("data", primary=True),)

        async def run(self, ctx: Any, config: SleepConfig, inputs: Dict[str, Any]) -> Any:
            await asyncio.sleep(config.seconds)
            return {"data": inputs.get("data")}

    block(SLOW)(Sleep)


# The SDK alone, without the platform: the tests that need the block skip.
with contextlib.suppress(ImportError):
    register_slow_block()

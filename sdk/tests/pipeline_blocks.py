"""A slow block for tests that need an execution to stay running (cancel, timeouts).

The server runs in this process (conftest ``server``), so a block registered in its engine's
registry here is one its workers can run. Kept outside the generated ``_async``/``_sync`` trees
because the block itself is a coroutine on both sides.
"""

import asyncio
from typing import Any, Dict

SLOW = "sdk_test_sleep"


def register_slow_block() -> None:
    from moderately.engine import BlockType, Port
    from moderately.engine.registry import block
    from pydantic import BaseModel

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


def unregister_slow_block() -> None:
    from moderately.engine.registry import unregister

    unregister(SLOW)

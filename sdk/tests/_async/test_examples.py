"""Examples 04 (legal document extraction), 05 (variance analysis) and 06 (dataset chat) of
moderatelyai-sdk, step for step through this SDK against the real server with the examples'
own data (examples/data/), on both server configurations. Written the way the examples are,
with their 0.2.7 imports (``moderatelyai_sdk.models.<entity>``), so old code is shown to run.

The LLM provider is the loopback server of platform/tests/llm_server.py (conftest ``llm``):
each test scripts it where the default answer is not enough, and checks what it was sent.
"""

import time
import uuid
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

from moderatelyai_sdk import AsyncModeratelyAI, NotFoundError, _io_async
from moderatelyai_sdk.models.dataset_async import DatasetAsyncModel
from moderatelyai_sdk.models.pipeline_async import PipelineAsyncModel
from moderatelyai_sdk.models.pipeline_configuration_version_async import (
    PipelineConfigurationVersionAsyncModel,
)

from ..example_llm import CHAT, read_csv, system_text, turns
from .test_pipelines import connect

pytestmark = pytest.mark.anyio

POLL = 0.2  # the examples poll every 2 s (executions) and 5 s (processing); tests needn't wait
PROCESSING_WAIT = 60.0  # as long as the examples wait for processing


def stamp(name: str) -> str:
    """The examples name resources with a timestamp; the tag keeps parallel runs apart."""
    return f"{name} {int(time.time())} {uuid.uuid4().hex[:6]}"


async def create_dataset_from_csv(
    client: AsyncModeratelyAI, csv_path: Path, name: str, description: str
) -> DatasetAsyncModel:
    """The examples' dataset setup: data, schema from the sample, processing, polling."""
    dataset = await client.datasets.create(name=stamp(name), description=description)
    data_version = await dataset.upload_data(file=csv_path, file_type="csv", status="current")
    schema = await dataset.create_schema_from_sample(
        sample_file=csv_path, status="current", header_row=1
    )
    assert data_version.dataset_data_version_id and schema.dataset_schema_version_id
    await dataset.update(should_process=True)

    deadline = time.monotonic() + PROCESSING_WAIT
    while True:
        refreshed = await client.datasets.retrieve(dataset.dataset_id)
        if refreshed.processing_status == "completed":
            break
        assert refreshed.processing_status != "failed", refreshed.processing_error
        assert time.monotonic() < deadline, f"{name}: still {refreshed.processing_status}"
        await _io_async.sleep(POLL)
    assert refreshed.record_count == len(read_csv(csv_path))
    return dataset


async def create_pipeline(
    client: AsyncModeratelyAI, name: str, description: str, configuration: Dict[str, Any]
) -> Tuple[PipelineAsyncModel, PipelineConfigurationVersionAsyncModel]:
    pipeline = await client.pipelines.create(name=stamp(name), description=description)
    version = await pipeline.create_configuration_version(
        configuration=configuration, status="current"
    )
    assert version.is_current
    return pipeline, version


def connection(source: str, source_port: str, target: str, target_port: str) -> Dict[str, str]:
    return {
        "source_block_id": source,
        "source_port": source_port,
        "target_block_id": target,
        "target_port": target_port,
    }


async def gone(*resources: Any) -> None:
    """The examples' cleanup: delete each, then check that it is gone."""
    for resource in resources:
        await resource.delete()
        with pytest.raises(NotFoundError):
            await resource.refresh()


# --- example 06: dataset chat -------------------------------------------------------------------

CHAT_PIPELINE: Dict[str, Any] = {
    "id": "dataset_chat",
    "name": "Dataset Chat",
    "description": "Chat with an LLM that has the context datasets in view",
    "version": "1.0.0",
    "blocks": {
        "context_datasets": {
            "id": "context_datasets",
            "type": "input",
            "config": {
                "json_schema": {
                    "type": "array",
                    "items": {"type": "string", "format": "dataset"},
                    "description": "Datasets the assistant may draw on",
                }
            },
        },
        "user_input": {
            "id": "user_input",
            "type": "input",
            "config": {
                "json_schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["role", "content"],
                        "properties": {
                            "role": {"type": "string"},
                            "content": {"type": "string"},
                        },
                    },
                }
            },
        },
        "llm": {"id": "llm", "type": "llm", "config": {"provider": "anthropic", "model": "medium"}},
        "output": {"id": "output", "type": "output", "config": {"name": "output"}},
    },
    "connections": [
        connection("context_datasets", "data", "llm", "datasets"),
        connection("user_input", "data", "llm", "messages"),
        connection("llm", "response", "output", "data"),
    ],
}

# What the user types at the example's prompt, and what the model answers each time.
CHAT_TURNS = [
    ("Which statute governs termination notice?", "Part XV of the ESA 2000 does."),
    ("And where are leaves of absence covered?", "Part XIV covers every kind of leave."),
    ("Give me the link for the non-compete ban.", "Section 67.2: see the ESA's BK98 anchor."),
]


async def test_example_06_dataset_chat(fresh: Any, llm: Any) -> None:
    tiers = pytest.importorskip("moderately.ai.tiers", reason="platform package missing")
    replies = pytest.importorskip("llm_server", reason="platform tests missing")
    context_rows = read_csv(CHAT / "context.csv")
    async with connect(fresh) as client:
        context = await create_dataset_from_csv(
            client, CHAT / "context.csv", "Chat Context", "Legal references for the chat"
        )
        pipeline, version = await create_pipeline(
            client, "Dataset Chat", "Chat over a dataset", CHAT_PIPELINE
        )
        try:
            history: List[Dict[str, str]] = []
            for question, answer in CHAT_TURNS:
                llm.script(replies.text_reply(answer))
                history.append({"role": "user", "content": question})
                execution = await version.execute(
                    pipeline_input={
                        "context_datasets": [context.dataset_id],
                        "user_input": history,
                    },
                    block=True,
                    timeout=300,
                    poll_interval=POLL,
                )
                output = await execution.get_output()
                assert output == {"output": answer}
                reply = output["output"]
                assert isinstance(reply, str)  # it becomes the next message's content
                history.append({"role": "assistant", "content": reply})

                # One call per turn, to the medium anthropic model, with the whole history so
                # far and every row of the context dataset in the system text.
                request = llm.requests[-1]
                assert request.protocol == "anthropic"
                assert request.body["model"] == tiers.BUILTIN_TIERS["anthropic"]["medium"]
                assert turns(request) == [(m["role"], m["content"]) for m in history[:-1]]
                system = system_text(request)
                for row in context_rows:
                    assert row["url"] in system and row["section"] in system
            assert len(llm.requests) == len(CHAT_TURNS)
        finally:
            await gone(context, pipeline)

"""Pipelines end to end over real HTTP, on SQLite + local store and PostgreSQL + S3 (SeaweedFS):
the echo demo, fan-out/fan-in, map over 1,000 items, a join of datasets
created through the API, PDF text from a file uploaded through the files API, and an output too
large to inline (gzip in the object store, fetched through the output endpoint's URL)."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from datasets_helpers import create_dataset, create_schema, upload_data
from files_helpers import Member, get, member, upload
from live_servers import CONFIGURATIONS, start_live_server
from pipelines_helpers import echo_configuration, graph, run_configuration

from moderately.testing import RunningServer

pytestmark = pytest.mark.anyio

INLINE_LIMIT = 4096
PDF = Path(__file__).parent / "engine" / "data" / "employment_agreement.pdf"


@pytest.fixture(scope="module", params=CONFIGURATIONS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A live server with a small inline-output limit (so large outputs are cheap to make)."""
    options = {"pipeline_inline_output_bytes": INLINE_LIMIT, "workers": 2}
    with start_live_server(
        request, tmp_path_factory, "pipelines-live", prefix="pipelines", **options
    ) as running:
        yield running


@pytest.fixture
async def alice(server: RunningServer) -> AsyncIterator[Member]:
    async with member(server) as who:
        yield who


async def test_echo_demo(alice: Member) -> None:
    text = "Hello from the Moderately AI SDK pipeline example!"
    pipeline = (await alice.client.post("/pipelines", json={"name": "echo demo"})).json()
    duplicate = await alice.client.post("/pipelines", json={"name": "echo demo"})
    assert duplicate.status_code == 409 and duplicate.headers["x-should-retry"] == "false"
    version = (
        await alice.client.post(
            "/pipeline-configuration-versions",
            json={
                "pipelineId": pipeline["pipelineId"],
                "configuration": echo_configuration(),
                "status": "draft",
            },
        )
    ).json()
    report = await alice.client.post(
        "/pipeline-configuration-versions/validate",
        json={"configuration": version["configuration"]},
    )
    assert report.json()["valid"] is True
    assert report.json()["errors"] == [] == report.json()["warnings"]
    done = await run_configuration(alice.client, echo_configuration(), {"user_input": text}, "e2")
    assert done["status"] == "completed", done["progressData"]
    assert done["progressData"]["status"] == "completed"
    output = await alice.client.get(f"/pipeline-executions/{done['pipelineExecutionId']}/output")
    assert output.json()["data"] == {"echoed_message": text}
    clone = await alice.client.post(
        f"/pipeline-configuration-versions/{version['pipelineConfigurationVersionId']}/clone"
    )
    assert clone.status_code == 201 and clone.json()["version"] == version["version"] + 1
    deleted = await alice.client.delete(f"/pipelines/{pipeline['pipelineId']}")
    assert deleted.status_code == 200


async def test_fan_out_fan_in(alice: Member) -> None:
    configuration = graph(
        {
            "in": ("input", {"json_schema": {"type": "object"}}),
            "left": ("identity", {}),
            "right": ("json_template", {"template": {"seen": "{{name}}"}}),
            "both": ("zip", {"combine_strategy": "merge_objects"}),
            "out": ("output", {"name": "merged"}),
            "copy": ("output", {"name": "copy"}),
        },
        [
            ("in", "data", "left", "data"),
            ("in", "data", "right", "data"),
            ("left", "data", "both", "a"),
            ("right", "data", "both", "b"),
            ("both", "data", "out", "data"),
            ("left", "data", "copy", "data"),
        ],
    )
    done = await run_configuration(alice.client, configuration, {"in": {"name": "Ada"}}, "fan")
    assert done["status"] == "completed", done["progressData"]
    assert done["pipelineOutput"] == {
        "merged": {"name": "Ada", "seen": "Ada"},
        "copy": {"name": "Ada"},
    }
    assert done["currentStep"] == done["totalSteps"] == 6


async def test_map_over_1000_items(alice: Member) -> None:
    configuration = graph(
        {
            "in": ("input", {"json_schema": {"type": "array", "items": {"type": "integer"}}}),
            "each": (
                "map",
                {
                    "target_block_type": "string_template",
                    "target_config": {"template": "item {{data}}"},
                    "max_concurrency": 8,
                },
            ),
            "out": ("output", {"name": "items"}),
        },
        [("in", "data", "each", "data"), ("each", "data", "out", "data")],
    )
    items = list(range(1000))
    done = await run_configuration(alice.client, configuration, {"in": items}, "map")
    assert done["status"] == "completed", done["progressData"]
    output = await alice.client.get(f"/pipeline-executions/{done['pipelineExecutionId']}/output")
    body = output.json()
    if body["type"] == "s3":  # ~10 KB of output: over the test server's inline limit
        data = json.loads(gzip.decompress((await get(body["downloadUrl"])).content))
    else:
        data = body["data"]
    assert data["items"] == [f"item {n}" for n in items]
    assert done["progressData"]["blocks"]["each"]["items_completed"] == 1000


async def test_join_of_datasets_made_through_the_api(alice: Member) -> None:
    customers = await create_dataset(alice, "customers")
    await upload_data(alice, customers["datasetId"], b"id,name\n1,Ada\n2,Grace\n3,Linus\n")
    await create_schema(
        alice,
        customers["datasetId"],
        [{"name": "id", "type": "int"}, {"name": "name", "type": "string"}],
    )
    orders = await create_dataset(alice, "orders")
    await upload_data(alice, orders["datasetId"], b"customer_id,amount\n1,9.5\n1,3\n2,7.25\n")
    await create_schema(
        alice,
        orders["datasetId"],
        [{"name": "customer_id", "type": "int"}, {"name": "amount", "type": "float"}],
    )
    configuration = graph(
        {
            "customers": ("input", {"json_schema": {"type": "string", "format": "dataset"}}),
            "orders": ("input", {"json_schema": {"type": "string", "format": "dataset"}}),
            "joined": (
                "join",
                {
                    "base_dataset": "customers",
                    "joins": [
                        {
                            "dataset": "orders",
                            "left_key": "customers.id",
                            "right_key": "customer_id",
                            "join_type": "left",
                        }
                    ],
                    "output_columns": [
                        {"name": "name", "source": "customers.name", "type": "string"},
                        {
                            "name": "amount",
                            "source": "orders.amount",
                            "type": "number",
                            "nullable": True,
                        },
                    ],
                },
            ),
            "out": ("output", {"name": "rows"}),
        },
        [
            ("customers", "data", "joined", "customers"),
            ("orders", "data", "joined", "orders"),
            ("joined", "data", "out", "data"),
        ],
    )
    done = await run_configuration(
        alice.client,
        configuration,
        {"customers": customers["datasetId"], "orders": orders["datasetId"]},
        "join",
    )
    assert done["status"] == "completed", done["progressData"]
    assert done["pipelineOutput"]["rows"] == [
        {"name": "Ada", "amount": 9.5},
        {"name": "Ada", "amount": 3.0},
        {"name": "Grace", "amount": 7.25},
        {"name": "Linus", "amount": None},
    ]


async def test_pdf_text_from_an_uploaded_file(alice: Member) -> None:
    data = PDF.read_bytes()
    uploaded = await upload(
        alice, data, fileName="employment_agreement.pdf", mimeType="application/pdf"
    )
    configuration = graph(
        {
            "doc": ("input", {"json_schema": {"type": "string", "format": "file"}}),
            "read": ("pdf_reader", {}),
            "out": ("output", {"name": "text"}),
            "meta": ("output", {"name": "metadata"}),
        },
        [
            ("doc", "data", "read", "file_id"),
            ("read", "text", "out", "data"),
            ("read", "metadata", "meta", "data"),
        ],
    )
    done = await run_configuration(alice.client, configuration, {"doc": uploaded["fileId"]}, "pdf")
    assert done["status"] == "completed", done["progressData"]
    output = (
        await alice.client.get(f"/pipeline-executions/{done['pipelineExecutionId']}/output")
    ).json()
    # ~15,000 characters: over the inline limit, so stored gzip'd and fetched by URL.
    assert output["type"] == "s3" and done["pipelineOutput"] is None
    assert done["pipelineOutputFileUri"].endswith("output.json.gz")
    assert output["metadata"]["compressionType"] == "gzip"
    assert output["metadata"]["fileType"] == "json"
    fetched = await get(output["downloadUrl"])
    assert fetched.status_code == 200
    assert "content-encoding" not in fetched.headers
    assert len(fetched.content) == output["metadata"]["fileSizeBytes"]
    result = json.loads(gzip.decompress(fetched.content))
    assert result["metadata"]["page_count"] == 9
    assert len(result["text"]) > 10_000 and "employ" in result["text"].lower()
    # Deleting the pipeline deletes its executions' stored outputs too.
    deleted = await alice.client.delete(f"/pipelines/{done['pipelineId']}")
    assert deleted.status_code == 200
    assert (await get(output["downloadUrl"])).status_code == 404

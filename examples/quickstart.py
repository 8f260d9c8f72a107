"""Quickstart: talk to a Moderately platform through the SDK.

Reads MODERATELY_BASE_URL, MODERATELY_API_KEY and MODERATELY_TEAM_ID from the environment
(`make run` sets them from the server's credentials.env) and prints what it does.
"""

from __future__ import annotations

import hashlib
import tempfile
import uuid
from pathlib import Path
from typing import Any

from moderatelyai_sdk import ConflictError, ModeratelyAI, NotFoundError


def main() -> None:
    with ModeratelyAI() as client:
        print(f"connected to {client.base_url} as team {client.team_id}")

        users = client.users.list()
        me = users["items"][0]
        print(f"users in my teams: {users['pagination']['totalItems']}; first: {me.display_name()}")
        me = me.update_profile(nickname="quickstart")
        print(f"nickname set: {me.nickname!r} (created {me.formatted_created_at()})")

        team = client.teams.retrieve(client.team_id)
        print(f"team: {team.name} ({team.team_id})")

        suffix = uuid.uuid4().hex[:6]
        names = [f"quickstart-{suffix}-{n}" for n in range(3)]
        agents = [
            client.agents.create(name=name, description="made by quickstart") for name in names
        ]
        print(f"created {len(agents)} agents: {', '.join(a.name for a in agents)}")

        try:
            client.agents.create(name=names[0])
        except ConflictError as error:
            print(f"a duplicate name is refused: {error.message}")

        seen = [a.name for a in client.agents.list(page_size=2).auto_paging_iter()]
        print(f"walked {len(seen)} agents across pages of 2")

        renamed = client.agents.update(agents[0].agent_id, description="renamed by quickstart")
        print(f"updated: {renamed.name} -> {renamed.description!r}")

        for agent in agents:
            client.agents.delete(agent.agent_id)
        try:
            client.agents.retrieve(agents[0].agent_id)
        except NotFoundError as error:
            print(f"deleted agents are gone: {error.message} (request {error.request_id})")

        files_roundtrip(client)
        dataset_roundtrip(client)
        semantic_search(client)

    print("quickstart finished")


def files_roundtrip(client: ModeratelyAI) -> None:
    """Upload a file, find it by its hash, download it, check the bytes, delete it."""
    content = b"id,name,amount\n1,Ada,3.5\n2,Grace,4\n"
    digest = hashlib.sha256(content).hexdigest()
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "quickstart.csv"
        source.write_bytes(content)
        file = client.files.upload(source, metadata={"made_by": "quickstart"}, file_hash=digest)
        print(f"uploaded {file.name}: {file.file_size} bytes, {file.mime_type}, {file.status}")

        found = client.files.list(file_hashes=digest)["items"]
        print(f"files with that SHA-256: {[f.file_id for f in found]}")

        copy = Path(tmp) / "copy" / "quickstart.csv"
        file.download(path=copy)
        assert copy.read_bytes() == content == client.files.download(file.file_id)
        print(f"downloaded it again, byte for byte ({copy.stat().st_size} bytes, hash checked)")
    file.delete()


def dataset_roundtrip(client: ModeratelyAI) -> None:
    """Create a dataset from a small price list, infer its schema, process it, delete it."""
    price_list = Path(__file__).resolve().parent / "data" / "price_list.csv"
    dataset = client.datasets.create(
        name=f"quickstart-prices-{uuid.uuid4().hex[:6]}", description="made by quickstart"
    )
    try:
        version = dataset.upload_data(price_list)
        print(f"uploaded data version {version.version_no}: {version.row_count} rows")

        schema = dataset.create_schema_from_sample(price_list, status="current")
        columns = ", ".join(f"{c.name}: {c.type}" for c in schema.columns)
        print(f"inferred schema version {schema.version_no}: {columns}")

        dataset.process(timeout=120)  # raises ProcessingError with the report if it fails
        print(f"processed: {dataset.processing_status}, {dataset.record_count} records")

        pipeline_roundtrip(client, dataset.dataset_id)
    finally:
        dataset.delete()
    print(f"deleted dataset {dataset.name}")


def pipeline_roundtrip(client: ModeratelyAI, dataset_id: str) -> None:
    """Run a small offline pipeline over the dataset: rows -> transform -> template -> output."""
    blocks = {
        "prices": ("dataset", {"dataset_id": dataset_id}),
        "top_three": (
            "transform",
            {
                "operations": [
                    {"type": "filter", "field": "in_stock", "operator": "eq", "value": True},
                    {"type": "sort", "field": "unit_price", "direction": "desc"},
                    {"type": "limit", "count": 3},
                    {"type": "format", "template": "{{product}} ({{unit_price}})"},
                    {"type": "join_text", "separator": ", "},
                ]
            },
        ),
        "heading": ("input", {"json_schema": {"type": "string"}}),
        "sentence": ("string_template", {"template": "{{heading}}: {{data}}"}),
        "result": ("output", {"name": "summary"}),
    }
    edges = [
        ("prices", "data", "top_three", "data"),
        ("top_three", "data", "sentence", "data"),
        ("heading", "data", "sentence", "heading"),
        ("sentence", "data", "result", "data"),
    ]
    configuration = graph("quickstart_prices", "Most expensive items in stock", blocks, edges)
    pipeline = client.pipelines.create(name=f"quickstart-{uuid.uuid4().hex[:6]}")
    try:
        version = pipeline.create_configuration_version(configuration=configuration)
        report = version.validate()
        print(
            f"configuration version {version.version} ({version.status}): valid={report['valid']}"
        )
        execution = version.execute(
            pipeline_input={"heading": "Most expensive in stock"},
            pipeline_input_summary="quickstart price list",
            block=True,
            timeout=60,
            on_progress=lambda e: print(f"  {e.status}: {e.progress_message or ''}"),
        )
        print(f"pipeline output: {execution.get_output()}")
    finally:
        pipeline.delete()
    print(f"deleted pipeline {pipeline.name}")


def semantic_search(client: ModeratelyAI) -> None:
    """Find the passage closest in meaning to a question, offline: embeddings -> semantic_filter
    with the embedding model bundled in the server."""
    blocks = {
        "passages": ("input", {"json_schema": {"type": "array"}}),
        "question": ("input", {"json_schema": {"type": "string"}}),
        "embed": ("embeddings", {}),
        "search": ("semantic_filter", {"top_k": 1}),
        "answer": ("output", {"name": "best"}),
    }
    edges = [
        ("passages", "data", "embed", "texts"),
        ("embed", "embeddings", "search", "items"),
        ("question", "data", "search", "query"),
        ("search", "matches", "answer", "data"),
    ]
    passages = [
        {"text": "The tenant must pay the rent on the first day of every month."},
        {"text": "Either party may terminate this agreement with thirty days' written notice."},
        {"text": "All disputes shall be settled by arbitration in London."},
    ]
    question = "How can the contract be ended?"
    pipeline = client.pipelines.create(name=f"quickstart-search-{uuid.uuid4().hex[:6]}")
    try:
        version = pipeline.create_configuration_version(
            configuration=graph("quickstart_search", "Closest passage", blocks, edges)
        )
        execution = version.execute(
            pipeline_input={"passages": passages, "question": question},
            pipeline_input_summary="quickstart semantic search",
            block=True,
            timeout=60,
        )
        (best,) = execution.get_output()["best"]
        print(f"asked {question!r}; closest passage (score {best['score']:.2f}):")
        print(f"  {best['item']['text']}")
    finally:
        pipeline.delete()


def graph(
    pipeline_id: str,
    name: str,
    blocks: dict[str, tuple[str, dict[str, Any]]],
    edges: list[tuple[str, str, str, str]],
) -> dict[str, Any]:
    """A configuration document from `{id: (type, config)}` and `(source, port, target, port)`."""
    return {
        "id": pipeline_id,
        "name": name,
        "blocks": {key: {"id": key, "type": t, "config": c} for key, (t, c) in blocks.items()},
        "connections": [
            {"source_block_id": s, "source_port": sp, "target_block_id": t, "target_port": tp}
            for s, sp, t, tp in edges
        ],
    }


if __name__ == "__main__":
    main()

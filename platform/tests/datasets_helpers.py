"""Helpers for the dataset tests: the 0.2.7 flows over real HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from files_helpers import Member, get, put, sha

PROCESSING_TIMEOUT = 20.0


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def create_dataset(who: Member, name: str, **body: Any) -> dict[str, Any]:
    return ok(await who.client.post("/datasets", json={"name": name, **body}), 201)  # type: ignore[no-any-return]


async def start_upload(
    who: Member, dataset_id: str, *, status: str = "current", file_type: str = "csv", **body: Any
) -> dict[str, Any]:
    payload = {
        "datasetId": dataset_id,
        "fileName": f"data.{file_type}",
        "fileType": file_type,
        "status": status,
        **body,
    }
    return ok(await who.client.post("/dataset-data-versions", json=payload), 201)  # type: ignore[no-any-return]


async def upload_data(
    who: Member,
    dataset_id: str,
    data: bytes,
    *,
    status: str = "current",
    row_count: int | None = None,
    **body: Any,
) -> dict[str, Any]:
    """What 0.2.7's `upload_data` does: create, PUT with text/csv, complete with its estimate."""
    ticket = await start_upload(who, dataset_id, status=status, **body)
    assert set(ticket) == {"dataVersion", "uploadUrl", "uploadExpiry", "uploadHeaders"}
    response = await put(ticket["uploadUrl"], data, {"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text
    version_id = ticket["dataVersion"]["datasetDataVersionId"]
    complete = {"fileHash": sha(data), "fileSizeBytes": len(data), "rowCount": row_count}
    return ok(await who.client.post(f"/dataset-data-versions/{version_id}/complete", json=complete))  # type: ignore[no-any-return]


async def download_version(who: Member, version_id: str) -> bytes:
    link = ok(await who.client.get(f"/dataset-data-versions/{version_id}/download"))
    response = await get(link["downloadUrl"])
    assert response.status_code == 200, response.text
    # Extension: what the URL serves, so the SDK can check it without fetching the version.
    assert link["fileSizeBytes"] == len(response.content)
    assert link["fileHash"].lower().removeprefix("sha256:") == sha(response.content)
    return response.content


async def create_schema(
    who: Member, dataset_id: str, columns: list[dict[str, Any]], **body: Any
) -> dict[str, Any]:
    payload = {"datasetId": dataset_id, "columns": columns, "status": "current", **body}
    return ok(await who.client.post("/dataset-schema-versions", json=payload), 201)  # type: ignore[no-any-return]


async def dataset_of(who: Member, dataset_id: str) -> dict[str, Any]:
    return ok(await who.client.get(f"/datasets/{dataset_id}"))  # type: ignore[no-any-return]


async def process(who: Member, dataset_id: str) -> dict[str, Any]:
    """PATCH shouldProcess, then poll (as 0.2.7's examples do, only faster) until it settles."""
    queued = ok(await who.client.patch(f"/datasets/{dataset_id}", json={"should_process": True}))
    assert queued["processingStatus"] in ("in_progress", "failed"), queued
    return await settled(who, dataset_id)


async def settled(who: Member, dataset_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + PROCESSING_TIMEOUT
    while True:
        dataset = await dataset_of(who, dataset_id)
        if dataset["processingStatus"] != "in_progress":
            return dataset
        assert time.monotonic() < deadline, f"processing did not finish: {dataset}"
        await asyncio.sleep(0.05)

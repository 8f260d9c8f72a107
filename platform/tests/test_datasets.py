"""Datasets and schema versions through the API (in-process app, SQLite and PostgreSQL): CRUD,
filters, sorting, names, the 0.2.7 spellings, schema checks and promotions, the file link.

Transfers, processing and inference run on the live servers: test_dataset_data.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from api_helpers import Account, assert_error

pytestmark = pytest.mark.anyio

DATASET_KEYS = {
    "datasetId",
    "teamId",
    "name",
    "description",
    "createdAt",
    "updatedAt",
    "currentSchemaVersionId",
    "currentDataVersionId",
    "activeDataSchemaVersionId",
    "activeDataVersionId",
    "processingStatus",
    "recordCount",
    "totalSizeBytes",
    "processingError",
    "processingReport",
}
COLUMNS = [
    {"name": "id", "type": "integer", "nullable": False},
    {"name": "name", "type": "string"},
]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def new_dataset(who: Account, name: str, **body: Any) -> dict[str, Any]:
    return ok(await who.client.post("/datasets", json={"name": name, **body}), 201)  # type: ignore[no-any-return]


async def new_schema(who: Account, dataset_id: str, **body: Any) -> dict[str, Any]:
    payload = {"datasetId": dataset_id, "columns": COLUMNS, **body}
    return ok(await who.client.post("/dataset-schema-versions", json=payload), 201)  # type: ignore[no-any-return]


# ---- datasets ----


async def test_create_retrieve_update_delete(alice: Account) -> None:
    created = await new_dataset(alice, "prices", description="price list")
    assert set(created) == DATASET_KEYS
    assert created["teamId"] == alice.team_id and created["description"] == "price list"
    assert created["processingStatus"] is None and created["recordCount"] is None
    assert created["currentDataVersionId"] is None and created["processingReport"] is None
    dataset_id = created["datasetId"]
    assert ok(await alice.client.get(f"/datasets/{dataset_id}")) == created

    renamed = ok(await alice.client.patch(f"/datasets/{dataset_id}", json={"name": "prices 2"}))
    assert renamed["name"] == "prices 2" and renamed["description"] == "price list"
    assert renamed["processingStatus"] is None  # renames never touch processing
    cleared = ok(await alice.client.patch(f"/datasets/{dataset_id}", json={"description": None}))
    assert cleared["description"] is None

    deleted = ok(await alice.client.delete(f"/datasets/{dataset_id}"))
    assert deleted == {"success": True, "message": "dataset deleted"}
    assert_error(await alice.client.get(f"/datasets/{dataset_id}"), 404, "NOT_FOUND")
    assert_error(await alice.client.delete(f"/datasets/{dataset_id}"), 404)


async def test_duplicate_names_conflict_within_a_team(alice: Account, bob: Account) -> None:
    first = await new_dataset(alice, "clauses")
    again = await alice.client.post("/datasets", json={"name": "clauses"})
    assert "already exists" in assert_error(again, 409, "CONFLICT")["message"]
    assert again.headers["x-should-retry"] == "false"
    await new_dataset(bob, "clauses")  # another team may use the name
    other = await new_dataset(alice, "other")
    clash = await alice.client.patch(f"/datasets/{other['datasetId']}", json={"name": "clauses"})
    assert_error(clash, 409)
    same = await alice.client.patch(f"/datasets/{first['datasetId']}", json={"name": "clauses"})
    assert same.status_code == 200


async def test_filters_sorting_and_027_spellings(alice: Account) -> None:
    names = ["b-notes", "a-notes", "c_prices"]
    made = {n: (await new_dataset(alice, n))["datasetId"] for n in names}

    async def listed(**params: Any) -> list[str]:
        page = ok(await alice.client.get("/datasets", params=params))
        return [d["name"] for d in page["items"]]

    assert await listed() == names  # createdAt ascending by default
    assert await listed(orderBy="name") == sorted(names)
    assert await listed(order_by="name", order_direction="desc") == sorted(names, reverse=True)
    assert await listed(name="a-notes") == ["a-notes"]
    assert await listed(nameLike="NOTES", orderBy="name") == ["a-notes", "b-notes"]
    assert await listed(name_like="_") == ["c_prices"]  # the user's _ matches itself
    ids = [made["c_prices"], made["a-notes"]]
    assert await listed(datasetIds=ids, orderBy="name") == ["a-notes", "c_prices"]
    assert await listed(dataset_ids=",".join(ids), orderBy="name") == ["a-notes", "c_prices"]
    assert await listed(teamIds=alice.team_id, pageSize=1, page=2) == ["a-notes"]
    full = ok(await alice.client.get("/datasets", params={"pageSize": 1}))["items"][0]
    assert set(full) == DATASET_KEYS  # full objects in lists (R7)
    assert_error(await alice.client.get("/datasets", params={"orderBy": "size"}), 400)
    assert_error(await alice.client.get("/datasets", params={"pageSize": 1001}), 400)


async def test_processing_without_inputs_fails_with_a_reason(alice: Account) -> None:
    created = await new_dataset(alice, "empty", shouldProcess=True)
    assert created["processingStatus"] == "failed"
    assert "no current data version" in created["processingError"]
    dataset_id = created["datasetId"]
    again = ok(await alice.client.patch(f"/datasets/{dataset_id}", json={"shouldProcess": True}))
    assert again["processingStatus"] == "failed"
    untouched = ok(
        await alice.client.patch(f"/datasets/{dataset_id}", json={"should_process": False})
    )
    assert untouched["processingStatus"] == "failed"


# ---- schema versions ----


async def test_schema_versions_027_inputs(alice: Account) -> None:
    dataset = await new_dataset(alice, "schemas")
    dataset_id = dataset["datasetId"]
    # What 0.2.7's create_schema sends, snake_case parsing options (B11), columnsJson (B9).
    created = ok(
        await alice.client.post(
            "/dataset-schema-versions",
            json={
                "datasetId": dataset_id,
                "columnsJson": [
                    {"pos": 1, "name": "id", "type": "int", "required": True},
                    {"pos": 2, "name": "when", "type": "datetime", "description": "d"},
                    {"name": "x", "type": "geo", "transformExpr": None, "operations": []},
                ],
                "status": "draft",
                "parsingOptions": {"delimiter": "\t", "header_row": 2, "skip_rows": [0]},
            },
        ),
        201,
    )
    assert created["versionNo"] == 1 and created["status"] == "draft"
    assert created["isCurrent"] is False
    assert created["columnsJson"] == [
        {"name": "id", "type": "integer", "nullable": False, "pos": 1},
        {"name": "when", "type": "datetime", "nullable": True, "pos": 2, "description": "d"},
        {"name": "x", "type": "geo", "nullable": True, "operations": []},
    ]
    assert created["parsingOptions"] == {
        "delimiter": "\t",
        "headerRow": 2,
        "skipRows": [0],
        "encoding": "utf-8",
    }
    version_id = created["datasetSchemaVersionId"]
    assert ok(await alice.client.get(f"/dataset-schema-versions/{version_id}")) == created
    bare = await new_schema(alice, dataset_id)
    assert bare["versionNo"] == 2
    assert bare["parsingOptions"] == {
        "delimiter": ",",
        "headerRow": 1,
        "skipRows": 0,
        "encoding": "utf-8",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"columns": []}, "columns"),
        ({"columns": [{"name": " ", "type": "string"}]}, "columns.0.name"),
        ({"columns": [{"name": "a"}]}, "columns.0.type"),
        (
            {"columns": [{"name": "a", "type": "int"}, {"name": "a", "type": "int"}]},
            "columns[1].name",
        ),
        ({"parsingOptions": {"delimiter": ";;"}}, "parsingOptions"),
        ({"parsingOptions": {"encoding": "klingon"}}, "parsingOptions"),
        ({"parsingOptions": {"headerRow": 0}}, "parsingOptions.headerRow"),
        ({"parsingOptions": {"quote": ",", "delimiter": ","}}, "parsingOptions"),
        ({"status": "live"}, "status"),
    ],
)
async def test_bad_schemas_are_400_with_details(
    alice: Account, body: dict[str, Any], field: str
) -> None:
    dataset = await new_dataset(alice, f"bad {field} {len(str(body))}")
    payload = {"datasetId": dataset["datasetId"], "columns": COLUMNS, **body}
    error = assert_error(
        await alice.client.post("/dataset-schema-versions", json=payload), 400, "VALIDATION_ERROR"
    )
    assert error["details"][0]["field"] == field, error


async def test_promotion_rules(alice: Account) -> None:
    dataset_id = (await new_dataset(alice, "promotions"))["datasetId"]
    first = await new_schema(alice, dataset_id, status="current")
    assert first["isCurrent"] is True
    dataset = ok(await alice.client.get(f"/datasets/{dataset_id}"))
    assert dataset["currentSchemaVersionId"] == first["datasetSchemaVersionId"]
    assert dataset["processingStatus"] is None  # no data yet: nothing to redo

    second = await new_schema(alice, dataset_id, status="current")
    path = f"/dataset-schema-versions/{first['datasetSchemaVersionId']}"
    assert ok(await alice.client.get(path))["status"] == "archived"
    dataset = ok(await alice.client.get(f"/datasets/{dataset_id}"))
    assert dataset["currentSchemaVersionId"] == second["datasetSchemaVersionId"]

    activated = ok(await alice.client.patch(path, json={"status": "current"}))  # activate()
    assert activated["status"] == "current" and activated["isCurrent"] is True
    second_path = f"/dataset-schema-versions/{second['datasetSchemaVersionId']}"
    assert ok(await alice.client.get(second_path))["status"] == "archived"

    edited = ok(
        await alice.client.patch(
            path, json={"columns": [*COLUMNS, {"name": "extra", "type": "bool"}]}
        )
    )
    assert edited["columnsJson"][-1] == {"name": "extra", "type": "boolean", "nullable": True}
    assert edited["status"] == "current"

    archived = ok(await alice.client.patch(path, json={"status": "archived"}))  # archive()
    assert archived["status"] == "archived"
    dataset = ok(await alice.client.get(f"/datasets/{dataset_id}"))
    assert dataset["currentSchemaVersionId"] is None

    listed = ok(
        await alice.client.get(
            "/dataset-schema-versions",
            params={"datasetIds": dataset_id, "orderBy": "createdAt", "orderDirection": "desc"},
        )
    )
    assert [v["versionNo"] for v in listed["items"]] == [2, 1]
    current = await alice.client.get(
        "/dataset-schema-versions", params={"datasetIds": dataset_id, "status": "current"}
    )
    assert ok(current)["items"] == []
    by_no = await alice.client.get(
        "/dataset-schema-versions", params={"dataset_ids": dataset_id, "version_no": 2}
    )
    assert [v["versionNo"] for v in ok(by_no)["items"]] == [2]
    assert_error(await alice.client.patch(path, json={"columns": []}), 400)
    assert_error(await alice.client.patch(path, json={"parsingOptions": {"delimiter": ""}}), 400)


async def test_concurrent_promotions_leave_one_current(alice: Account) -> None:
    """The dataset's row is locked for each promotion (PostgreSQL: FOR UPDATE): numbers stay
    unique and exactly one version ends up current, the one the pointer names."""
    dataset_id = (await new_dataset(alice, "racing"))["datasetId"]
    made = await asyncio.gather(
        *(new_schema(alice, dataset_id, status="current") for _ in range(6))
    )
    assert sorted(v["versionNo"] for v in made) == [1, 2, 3, 4, 5, 6]
    listed = ok(
        await alice.client.get(
            "/dataset-schema-versions", params={"datasetIds": dataset_id, "pageSize": 10}
        )
    )["items"]
    current = [v["datasetSchemaVersionId"] for v in listed if v["status"] == "current"]
    dataset = ok(await alice.client.get(f"/datasets/{dataset_id}"))
    assert current == [dataset["currentSchemaVersionId"]]


# ---- the file link (services/datasets.require_dataset) ----


async def test_files_link_to_datasets_of_their_team(alice: Account, bob: Account) -> None:
    mine = (await new_dataset(alice, "linked"))["datasetId"]
    theirs = (await new_dataset(bob, "not yours"))["datasetId"]
    ticket = ok(
        await alice.client.post(
            "/files/upload-url", json={"fileName": "a.csv", "fileSize": 1, "datasetId": mine}
        ),
        201,
    )
    file_id = ticket["file"]["fileId"]
    assert ticket["file"]["datasetId"] == mine
    refused = await alice.client.post(
        "/files/upload-url", json={"fileName": "a.csv", "fileSize": 1, "dataset_id": theirs}
    )
    assert_error(refused, 404)
    assert_error(await alice.client.patch(f"/files/{file_id}", json={"datasetId": theirs}), 404)
    listed = ok(await alice.client.get("/files", params={"dataset_id": mine}))
    assert [f["fileId"] for f in listed["items"]] == [file_id]
    assert ok(await alice.client.get("/files", params={"datasetId": theirs}))["items"] == []
    ok(await alice.client.delete(f"/datasets/{mine}"))
    assert ok(await alice.client.get(f"/files/{file_id}"))["datasetId"] is None  # unlinked

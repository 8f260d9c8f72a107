"""Pipelines and configuration versions over HTTP (docs/reference/api.md)."""

from __future__ import annotations

import pytest
from api_helpers import Account, assert_error
from pipelines_helpers import echo_configuration

pytestmark = pytest.mark.anyio


async def make_pipeline(account: Account, name: str = "echo") -> dict:
    response = await account.client.post("/pipelines", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()


async def make_version(account: Account, pipeline_id: str, **extra: object) -> dict:
    body = {"pipelineId": pipeline_id, "configuration": echo_configuration(), **extra}
    response = await account.client.post("/pipeline-configuration-versions", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_pipeline_crud_and_duplicate_name(alice: Account) -> None:
    created = await make_pipeline(alice, "crud")
    assert created["teamId"] == alice.team_id
    assert (created["totalRuns"], created["successfulRuns"], created["successRate"]) == (0, 0, 0)
    assert created["lastRunAt"] is None
    duplicate = await alice.client.post("/pipelines", json={"name": "crud"})
    assert_error(duplicate, 409)
    pid = created["pipelineId"]
    got = (await alice.client.get(f"/pipelines/{pid}")).json()
    assert got["name"] == "crud"
    patched = await alice.client.patch(f"/pipelines/{pid}", json={"description": "d", "name": "c2"})
    assert patched.status_code == 200 and patched.json()["description"] == "d"
    other = await make_pipeline(alice, "other")
    clash = await alice.client.patch(f"/pipelines/{other['pipelineId']}", json={"name": "c2"})
    assert_error(clash, 409)
    listed = (await alice.client.get("/pipelines", params={"nameLike": "C2"})).json()
    assert [p["pipelineId"] for p in listed["items"]] == [pid]
    by_id = (await alice.client.get("/pipelines", params={"pipelineIds": pid})).json()
    assert by_id["pagination"]["totalItems"] == 1
    deleted = await alice.client.delete(f"/pipelines/{pid}")
    assert deleted.status_code == 200 and deleted.json()["success"] is True
    assert_error(await alice.client.get(f"/pipelines/{pid}"), 404)


async def test_versions_numbering_status_rules_and_clone(alice: Account) -> None:
    pid = (await make_pipeline(alice, "versions"))["pipelineId"]
    first = await make_version(alice, pid)
    assert (first["version"], first["status"]) == (1, "draft")
    assert first["configuration"]["connections"] and first["configuration"]["version"] == "1.0.0"
    current = await make_version(alice, pid, status="current")
    assert current["version"] == 2
    second_current = await alice.client.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pid, "configuration": echo_configuration(), "status": "current"},
    )
    assert_error(second_current, 409)
    vid, cid = first["pipelineConfigurationVersionId"], current["pipelineConfigurationVersionId"]
    promote = await alice.client.patch(
        f"/pipeline-configuration-versions/{vid}", json={"status": "current"}
    )
    assert_error(promote, 409)
    changed = echo_configuration()
    changed["description"] = "changed"
    refused = await alice.client.patch(
        f"/pipeline-configuration-versions/{cid}", json={"configuration": changed}
    )
    assert_error(refused, 400)
    assert_error(await alice.client.delete(f"/pipeline-configuration-versions/{cid}"), 400)
    patched = await alice.client.patch(
        f"/pipeline-configuration-versions/{vid}", json={"configuration": changed}
    )
    assert patched.status_code == 200
    assert patched.json()["configuration"]["description"] == "changed"
    clone = await alice.client.post(f"/pipeline-configuration-versions/{cid}/clone")
    assert clone.status_code == 201, clone.text
    cloned = clone.json()
    assert (cloned["version"], cloned["status"], cloned["pipelineId"]) == (3, "draft", pid)
    assert cloned["configuration"] == current["configuration"]
    assert cloned["pipelineConfigurationVersionId"] not in (vid, cid)
    archived = await alice.client.patch(
        f"/pipeline-configuration-versions/{cid}", json={"status": "archived"}
    )
    assert archived.json()["status"] == "archived"
    promoted = await alice.client.patch(
        f"/pipeline-configuration-versions/{vid}", json={"status": "current"}
    )
    assert promoted.json()["status"] == "current"
    deleted = await alice.client.delete(f"/pipeline-configuration-versions/{cid}")
    assert deleted.status_code == 200 and deleted.json()["success"] is True


async def test_version_lists_filters_and_sorting(alice: Account) -> None:
    pid = (await make_pipeline(alice, "lists"))["pipelineId"]
    other = (await make_pipeline(alice, "lists-other"))["pipelineId"]
    versions = [await make_version(alice, pid) for _ in range(3)]
    await make_version(alice, other, status="current")
    ids = [v["pipelineConfigurationVersionId"] for v in versions]
    got = await alice.client.get(
        "/pipeline-configuration-versions",
        params={"pipelineIds": pid, "orderBy": "version", "orderDirection": "desc"},
    )
    assert [v["version"] for v in got.json()["items"]] == [3, 2, 1]
    by_ids = await alice.client.get(
        "/pipeline-configuration-versions",
        params={"pipelineConfigurationVersionIds": f"{ids[0]},{ids[2]}"},
    )
    assert {v["pipelineConfigurationVersionId"] for v in by_ids.json()["items"]} == {ids[0], ids[2]}
    current = await alice.client.get(
        "/pipeline-configuration-versions",
        params={"pipelineIds": f"{pid},{other}", "status": "current", "statuses": "current,draft"},
    )
    assert [v["pipelineId"] for v in current.json()["items"]] == [other]
    drafts = await alice.client.get(
        "/pipeline-configuration-versions", params={"pipelineIds": pid, "statuses": "draft"}
    )
    assert drafts.json()["pagination"]["totalItems"] == 3
    bad = await alice.client.get("/pipeline-configuration-versions", params={"statuses": "nope"})
    assert_error(bad, 400)
    bad_sort = await alice.client.get(
        "/pipeline-configuration-versions", params={"orderBy": "name"}
    )
    assert_error(bad_sort, 400)


async def test_structural_errors_are_400_with_the_report(alice: Account) -> None:
    pid = (await make_pipeline(alice, "structure"))["pipelineId"]
    document = echo_configuration()
    document["blocks"]["mystery"] = {"id": "mystery", "type": "no_such_block", "config": {}}
    response = await alice.client.post(
        "/pipeline-configuration-versions", json={"pipelineId": pid, "configuration": document}
    )
    body = assert_error(response, 400, "invalid_pipeline_configuration")
    assert body["details"][0]["errorType"] == "unknown_block_type"
    assert body["details"][0]["blockId"] == "mystery"
    # Graph rules are not enforced when saving: a draft may be incomplete.
    dangling = echo_configuration()
    dangling["connections"][0]["target_block_id"] = "nowhere"
    saved = await alice.client.post(
        "/pipeline-configuration-versions", json={"pipelineId": pid, "configuration": dangling}
    )
    assert saved.status_code == 201, saved.text
    missing = await alice.client.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": "nosuchpipeline", "configuration": echo_configuration()},
    )
    assert_error(missing, 404)


async def test_validate_and_schema(alice: Account) -> None:
    ok = await alice.client.post(
        "/pipeline-configuration-versions/validate", json={"configuration": echo_configuration()}
    )
    assert ok.status_code == 200
    assert ok.json()["valid"] is True and ok.json()["errors"] == [] == ok.json()["warnings"]
    assert ok.json()["inputSchema"]["properties"] == {"user_input": {"type": "string"}}
    document = echo_configuration()
    document["connections"][0]["target_block_id"] = "nowhere"
    bad = await alice.client.post(
        "/pipeline-configuration-versions/validate", json={"configuration": document}
    )
    assert bad.status_code == 200 and bad.json()["valid"] is False
    assert bad.json()["errors"][0]["errorType"] == "unknown_target_block"
    assert_error(await alice.client.post("/pipeline-configuration-versions/validate", json={}), 400)
    schema = await alice.client.get("/pipeline-configuration-versions/schema")
    assert schema.status_code == 200
    assert schema.json()["$schema"].startswith("http://json-schema.org/draft-07")

"""Cross-team isolation, endpoint by endpoint: bob (team B) never sees or changes alice's team A.

Another team's resource answers 404 (its existence is never revealed); a `teamIds` or `teamId`
naming team A answers 403 with no data.
"""

from __future__ import annotations

import pytest
from agents_helpers import version_body
from api_helpers import Account, assert_error

pytestmark = pytest.mark.anyio


@pytest.fixture
async def alices_things(alice: Account) -> dict[str, str]:
    agent = (await alice.client.post("/agents", json={"name": "secret agent"})).json()
    agent_version = (
        await alice.client.get(
            "/agent-configuration-versions", params={"agentIds": agent["agentId"]}
        )
    ).json()[0]
    agent_execution = (
        await alice.client.post(
            "/agent-executions", json={"agent_id": agent["agentId"], "input_data": {}}
        )
    ).json()
    token = (await alice.client.post("/api-tokens", json={"name": "secret token"})).json()
    members = (await alice.client.get("/team-users")).json()["items"]
    dataset = (await alice.client.post("/datasets", json={"name": "secret data"})).json()
    ticket = (
        await alice.client.post(
            "/dataset-data-versions",
            json={"datasetId": dataset["datasetId"], "fileName": "s.csv", "fileType": "csv"},
        )
    ).json()
    data_version = ticket["dataVersion"]["datasetDataVersionId"]
    assert (await alice.client.put(ticket["uploadUrl"], content=b"a\n1\n")).status_code == 200
    completed = await alice.client.post(f"/dataset-data-versions/{data_version}/complete")
    assert completed.status_code == 200, completed.text
    schema = (
        await alice.client.post(
            "/dataset-schema-versions",
            json={"datasetId": dataset["datasetId"], "columns": [{"name": "a", "type": "int"}]},
        )
    ).json()
    return {
        "agent": agent["agentId"],
        "agent_version": agent_version["agentConfigurationVersionId"],
        "agent_execution": agent_execution["agentExecutionId"],
        "token": token["tokenId"],
        "team_user": members[0]["teamUserId"],
        "team": alice.team_id,
        "user": alice.user_id,
        "dataset": dataset["datasetId"],
        "data_version": data_version,
        "schema_version": schema["datasetSchemaVersionId"],
    }


async def test_by_id_is_404(bob: Account, alices_things: dict[str, str]) -> None:
    t = alices_things
    dv_create = {"datasetId": t["dataset"], "fileName": "x.csv", "fileType": "csv"}
    sv_create = {"datasetId": t["dataset"], "columns": [{"name": "a", "type": "int"}]}
    requests = [
        ("GET", f"/users/{t['user']}", None),
        ("PATCH", f"/users/{t['user']}", {"fullName": "pwned"}),
        ("GET", f"/users/{t['user']}/teams", None),
        ("GET", f"/teams/{t['team']}", None),
        ("PATCH", f"/teams/{t['team']}", {"name": "pwned"}),
        ("DELETE", f"/teams/{t['team']}", None),
        ("GET", f"/team-users/{t['team_user']}", None),
        ("PATCH", f"/team-users/{t['team_user']}", {"role": "member"}),
        ("DELETE", f"/team-users/{t['team_user']}", None),
        ("GET", f"/api-tokens/{t['token']}", None),
        ("GET", f"/api-tokens/{t['token']}/usage", None),
        ("PATCH", f"/api-tokens/{t['token']}", {"isActive": False}),
        ("DELETE", f"/api-tokens/{t['token']}", None),
        ("GET", f"/agents/{t['agent']}", None),
        ("PATCH", f"/agents/{t['agent']}", {"name": "pwned"}),
        ("DELETE", f"/agents/{t['agent']}", None),
        ("POST", "/agent-configuration-versions", version_body(t["agent"], 2)),
        ("GET", f"/agent-configuration-versions/{t['agent_version']}", None),
        ("PATCH", f"/agent-configuration-versions/{t['agent_version']}", {"isCurrent": False}),
        ("POST", "/agent-executions", {"agent_id": t["agent"]}),
        (
            "POST",
            "/agent-executions",
            {"agentConfigurationVersionId": t["agent_version"], "agentInput": {}},
        ),
        ("GET", f"/agent-executions/{t['agent_execution']}", None),
        ("PATCH", f"/agent-executions/{t['agent_execution']}", {"status": "paused"}),
        ("POST", f"/agent-executions/{t['agent_execution']}/cancel", {}),
        ("PATCH", f"/agent-executions/{t['agent_execution']}/cancel", None),
        ("GET", f"/agent-executions/{t['agent_execution']}/memory-states", None),
        ("GET", f"/agent-executions/{t['agent_execution']}/memory-states/1", None),
        ("GET", f"/agent-executions/{t['agent_execution']}/live-tail", None),
        ("DELETE", f"/agent-executions/{t['agent_execution']}", None),
        ("GET", f"/datasets/{t['dataset']}", None),
        ("PATCH", f"/datasets/{t['dataset']}", {"name": "pwned", "shouldProcess": True}),
        ("DELETE", f"/datasets/{t['dataset']}", None),
        ("POST", "/dataset-data-versions", dv_create),
        ("GET", f"/dataset-data-versions/{t['data_version']}", None),
        ("POST", f"/dataset-data-versions/{t['data_version']}/complete", {}),
        ("GET", f"/dataset-data-versions/{t['data_version']}/download", None),
        ("POST", "/dataset-schema-versions", sv_create),
        ("GET", f"/dataset-schema-versions/{t['schema_version']}", None),
        ("PATCH", f"/dataset-schema-versions/{t['schema_version']}", {"status": "current"}),
        ("POST", "/dataset-schema-versions/infer", {"datasetDataVersionId": t["data_version"]}),
        ("POST", "/files/upload-url", {"fileName": "a", "fileSize": 1, "datasetId": t["dataset"]}),
    ]
    for method, path, body in requests:
        response = await bob.client.request(method, path, json=body)
        assert_error(response, 404, "NOT_FOUND")
        assert t["team"] not in response.text or path.endswith(t["team"])


async def test_lists_never_show_other_teams(bob: Account, alices_things: dict[str, str]) -> None:
    t = alices_things
    lists = [
        ("/users", {"userIds": t["user"]}),
        ("/teams", {}),
        ("/team-users", {"teamUserIds": t["team_user"]}),
        ("/team-users", {"userIds": t["user"]}),
        ("/agents", {"agentIds": t["agent"]}),
        ("/agent-configuration-versions", {"agentIds": t["agent"]}),
        ("/agent-configuration-versions", {"agentConfigurationVersionIds": t["agent_version"]}),
        ("/agent-executions", {"agent_id": t["agent"]}),
        ("/agent-executions", {"agentExecutionIds": t["agent_execution"]}),
        ("/agent-executions", {"agentConfigurationVersionIds": t["agent_version"]}),
        ("/api-tokens", {"tokenIds": t["token"]}),
        ("/users/" + bob.user_id + "/teams", {}),
        ("/datasets", {"datasetIds": t["dataset"]}),
        ("/datasets", {"name": "secret data"}),
        ("/dataset-data-versions", {"datasetIds": t["dataset"]}),
        ("/dataset-data-versions", {"datasetDataVersionIds": t["data_version"]}),
        ("/dataset-schema-versions", {"dataset_ids": t["dataset"]}),
        ("/dataset-schema-versions", {"datasetSchemaVersionIds": t["schema_version"]}),
        ("/files", {"datasetId": t["dataset"]}),
    ]
    for path, params in lists:
        response = await bob.client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        for value in t.values():
            assert value not in response.text, (path, value)


async def test_naming_another_team_is_refused(bob: Account, alices_things: dict[str, str]) -> None:
    team = alices_things["team"]
    for method, path, params, body in [
        ("GET", "/users", {"teamIds": team}, None),
        ("GET", "/teams", {"teamIds": team}, None),
        ("GET", "/team-users", {"team_ids": team}, None),
        ("GET", "/agents", {"teamIds": f"{bob.team_id},{team}"}, None),
        ("GET", "/api-tokens", {"teamId": team}, None),
        ("GET", "/api-tokens", {"teamIds": team}, None),
        ("GET", "/authentication/whoami", {"teamIds": team}, None),
        ("GET", f"/agents/{alices_things['agent']}", {"teamIds": team}, None),
        ("GET", "/agent-configuration-versions", {"teamIds": team}, None),
        ("GET", "/agent-executions", {"teamIds": team}, None),
        ("GET", "/agent-executions", {"team_ids": f"{bob.team_id},{team}"}, None),
        ("POST", "/agents", {}, {"name": "intruder", "teamId": team}),
        ("POST", "/agents", {}, {"name": "intruder", "team_id": team}),
        ("POST", "/agents", {"teamIds": team}, {"name": "intruder"}),
        ("POST", "/api-tokens", {}, {"name": "intruder", "teamId": team}),
        ("GET", "/datasets", {"teamIds": team}, None),
        ("GET", "/dataset-data-versions", {"teamIds": team}, None),
        ("GET", "/dataset-schema-versions", {"teamIds": team}, None),
        ("POST", "/datasets", {}, {"name": "intruder", "teamId": team}),
        ("POST", "/datasets", {"teamIds": team}, {"name": "intruder"}),
    ]:
        response = await bob.client.request(method, path, params=params, json=body)
        assert_error(response, 403, "FORBIDDEN")
        assert "items" not in response.json()


async def test_nothing_changed_for_alice(
    alice: Account, bob: Account, alices_things: dict[str, str]
) -> None:
    await test_by_id_is_404(bob, alices_things)
    await test_naming_another_team_is_refused(bob, alices_things)
    t = alices_things
    assert (await alice.client.get(f"/agents/{t['agent']}")).json()["name"] == "secret agent"
    assert (await alice.client.get(f"/teams/{t['team']}")).status_code == 200
    assert (await alice.client.get(f"/api-tokens/{t['token']}")).json()["isActive"] is True
    assert (await alice.client.get(f"/team-users/{t['team_user']}")).json()["role"] == "admin"
    assert (await alice.client.get(f"/users/{t['user']}")).json()["fullName"] != "pwned"
    agents = (await alice.client.get("/agents")).json()["items"]
    assert [a["name"] for a in agents] == ["secret agent"]
    version = (await alice.client.get(f"/agent-configuration-versions/{t['agent_version']}")).json()
    assert version["isCurrent"] is True and version["versionNumber"] == 1
    versions = (await alice.client.get("/agent-configuration-versions")).json()
    assert [v["agentConfigurationVersionId"] for v in versions] == [t["agent_version"]]
    execution = (await alice.client.get(f"/agent-executions/{t['agent_execution']}")).json()
    assert execution["agentId"] == t["agent"] and execution["pausedAt"] is None
    assert (
        execution["agentOutputSummary"] is None
        or "Cancelled" not in execution["agentOutputSummary"]
    )
    dataset = (await alice.client.get(f"/datasets/{t['dataset']}")).json()
    assert dataset["name"] == "secret data" and dataset["processingStatus"] is None
    versions = (await alice.client.get("/dataset-data-versions")).json()["items"]
    assert [v["datasetDataVersionId"] for v in versions] == [t["data_version"]]
    schema = (await alice.client.get(f"/dataset-schema-versions/{t['schema_version']}")).json()
    assert schema["status"] == "draft"

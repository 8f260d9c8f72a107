"""Cross-team isolation of every pipeline endpoint: bob (team B) never sees or changes alice's
pipelines, configuration versions or executions. Another team's id answers 404; naming team A
in `teamIds`/`teamId` answers 403."""

from __future__ import annotations

import pytest
from api_helpers import Account, assert_error
from pipelines_helpers import echo_configuration

pytestmark = pytest.mark.anyio


@pytest.fixture
async def alices_pipeline(alice: Account) -> dict[str, str]:
    pipeline = (await alice.client.post("/pipelines", json={"name": "secret pipeline"})).json()
    version = (
        await alice.client.post(
            "/pipeline-configuration-versions",
            json={"pipelineId": pipeline["pipelineId"], "configuration": echo_configuration()},
        )
    ).json()
    execution = await alice.client.post(
        "/pipeline-executions",
        json={
            "pipelineConfigurationVersionId": version["pipelineConfigurationVersionId"],
            "pipelineInput": {"user_input": "secret"},
            "pipelineInputSummary": "secret",
        },
    )
    assert execution.status_code == 201, execution.text
    return {
        "team": alice.team_id,
        "pipeline": pipeline["pipelineId"],
        "version": version["pipelineConfigurationVersionId"],
        "execution": execution.json()["pipelineExecutionId"],
    }


async def test_by_id_is_404(bob: Account, alices_pipeline: dict[str, str]) -> None:
    t = alices_pipeline
    run = {
        "pipelineConfigurationVersionId": t["version"],
        "pipelineInput": {"user_input": "x"},
        "pipelineInputSummary": "x",
    }
    requests = [
        ("GET", f"/pipelines/{t['pipeline']}", None),
        ("PATCH", f"/pipelines/{t['pipeline']}", {"name": "pwned"}),
        ("DELETE", f"/pipelines/{t['pipeline']}", None),
        (
            "POST",
            "/pipeline-configuration-versions",
            {"pipelineId": t["pipeline"], "configuration": echo_configuration()},
        ),
        ("GET", f"/pipeline-configuration-versions/{t['version']}", None),
        ("PATCH", f"/pipeline-configuration-versions/{t['version']}", {"status": "current"}),
        ("DELETE", f"/pipeline-configuration-versions/{t['version']}", None),
        ("POST", f"/pipeline-configuration-versions/{t['version']}/clone", None),
        ("POST", "/pipeline-executions", run),
        ("GET", f"/pipeline-executions/{t['execution']}", None),
        ("PATCH", f"/pipeline-executions/{t['execution']}", {"status": "running"}),
        ("POST", f"/pipeline-executions/{t['execution']}/cancel", {"reason": "pwned"}),
        ("GET", f"/pipeline-executions/{t['execution']}/output", None),
    ]
    for method, path, body in requests:
        response = await bob.client.request(method, path, json=body)
        assert_error(response, 404, "NOT_FOUND")
        assert t["team"] not in response.text


async def test_lists_never_show_other_teams(bob: Account, alices_pipeline: dict[str, str]) -> None:
    t = alices_pipeline
    lists = [
        ("/pipelines", {"pipelineIds": t["pipeline"]}),
        ("/pipelines", {"nameLike": "secret"}),
        ("/pipeline-configuration-versions", {"pipelineIds": t["pipeline"]}),
        ("/pipeline-configuration-versions", {"pipelineConfigurationVersionIds": t["version"]}),
        ("/pipeline-executions", {"pipelineIds": t["pipeline"]}),
        ("/pipeline-executions", {"pipelineConfigurationVersionIds": t["version"]}),
        ("/pipeline-executions", {"pipelineExecutionIds": t["execution"]}),
    ]
    for path, params in lists:
        response = await bob.client.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["items"] == [], path
        for value in t.values():
            assert value not in response.text, (path, value)


async def test_naming_another_team_is_refused(
    bob: Account, alices_pipeline: dict[str, str]
) -> None:
    team = alices_pipeline["team"]
    for method, path, params, body in [
        ("GET", "/pipelines", {"teamIds": team}, None),
        ("GET", "/pipeline-configuration-versions", {"teamIds": team}, None),
        ("GET", "/pipeline-executions", {"teamIds": f"{bob.team_id},{team}"}, None),
        ("POST", "/pipelines", {}, {"name": "intruder", "teamId": team}),
        ("POST", "/pipelines", {"teamIds": team}, {"name": "intruder"}),
    ]:
        response = await bob.client.request(method, path, params=params, json=body)
        assert_error(response, 403, "FORBIDDEN")


async def test_nothing_changed_for_alice(
    alice: Account, bob: Account, alices_pipeline: dict[str, str]
) -> None:
    await test_by_id_is_404(bob, alices_pipeline)
    t = alices_pipeline
    pipeline = (await alice.client.get(f"/pipelines/{t['pipeline']}")).json()
    assert pipeline["name"] == "secret pipeline" and pipeline["totalRuns"] == 1
    version = (await alice.client.get(f"/pipeline-configuration-versions/{t['version']}")).json()
    assert version["status"] == "draft"
    versions = (await alice.client.get("/pipeline-configuration-versions")).json()["items"]
    assert [v["pipelineConfigurationVersionId"] for v in versions] == [t["version"]]
    execution = (await alice.client.get(f"/pipeline-executions/{t['execution']}")).json()
    assert execution["status"] != "cancelled"
    assert "pwned" not in str(execution["progressData"])

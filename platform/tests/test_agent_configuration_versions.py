"""Agent configuration versions over HTTP (SQLite and PostgreSQL): the default version of a new
agent, create/list/get/PATCH, the one-current rule, 400/404/409 (docs/reference/api.md, Agent
configuration versions)."""

from __future__ import annotations

from typing import Any

import pytest
from agents_helpers import (
    current_version,
    make_agent,
    readonly_client,
    readonly_token,
    version_body,
)
from api_helpers import Account, assert_error

from moderately.agents.host import TOOL_NAMES

pytestmark = pytest.mark.anyio

VERSIONS = "/agent-configuration-versions"


async def test_a_new_agent_has_a_current_default_version(alice: Account) -> None:
    agent = await make_agent(alice, "defaulted")
    version = await current_version(alice, agent["agentId"])
    assert version["agentId"] == agent["agentId"]
    assert (version["versionNumber"], version["isCurrent"]) == (1, True)
    assert version["instructions"]
    assert version["inputSchema"] == version["outputSchema"] == {"type": "object"}
    assert version["llmConfig"] == {} and version["systemPrompt"] is None
    assert version["executionConfig"] == {
        "max_actions": 10,
        "planning_interval": 4,
        "feedback_rounds": 0,
        "timeout_minutes": 30,
    }
    tools = [tool["type"] for tool in version["toolConfig"]]
    assert tools and set(tools) <= set(TOOL_NAMES)
    # No outside network among the defaults.
    assert not {"TavilySearchTool", "GenericSearchTool", "ScrapeWebsiteTool"} & set(tools)
    fetched = await alice.client.get(f"{VERSIONS}/{version['agentConfigurationVersionId']}")
    assert fetched.status_code == 200 and fetched.json() == version


async def test_create_list_and_one_current(alice: Account) -> None:
    agent = await make_agent(alice, "versioned")
    agent_id = agent["agentId"]
    first = await current_version(alice, agent_id)
    llm = {
        "thought_llm": {"provider": "anthropic", "model_tier": "large", "enable_reasoning": True},
        "planner_llm": {
            "provider": "openai",
            "model_tier": "small",
            "model": "gpt-4o-mini",
            "model_config": {"temperature": 0.2},
        },
    }
    tools = [
        {"type": "ResourceSearchTool", "config": {"resource_ids": ["x"]}},
        {"type": "GetDateTool"},
    ]
    body = version_body(
        agent_id, 2, isCurrent=True, systemPrompt="Be brief.", llmConfig=llm, toolConfig=tools
    )
    created = await alice.client.post(VERSIONS, json=body)
    assert created.status_code == 201, created.text
    second = created.json()
    for key in ("instructions", "inputSchema", "outputSchema", "systemPrompt", "llmConfig"):
        assert second[key] == body[key], key
    assert second["toolConfig"] == tools
    assert second["executionConfig"] == body["executionConfig"]
    assert (second["versionNumber"], second["isCurrent"]) == (2, True)
    # The new current version demoted the default one.
    assert (await current_version(alice, agent_id))["agentConfigurationVersionId"] == second[
        "agentConfigurationVersionId"
    ]
    old = (await alice.client.get(f"{VERSIONS}/{first['agentConfigurationVersionId']}")).json()
    assert old["isCurrent"] is False
    # A third, not current; missing executionConfig keys take their defaults.
    third = await alice.client.post(
        VERSIONS, json=version_body(agent_id, 3, executionConfig={"max_actions": 7})
    )
    assert third.status_code == 201, third.text
    assert third.json()["executionConfig"] == {
        "max_actions": 7,
        "planning_interval": 4,
        "feedback_rounds": 0,
        "timeout_minutes": 30,
    }

    async def listed(**params: Any) -> list[int]:
        response = await alice.client.get(VERSIONS, params={"agentIds": agent_id, **params})
        assert response.status_code == 200, response.text
        assert isinstance(response.json(), list)  # a bare array, not an envelope
        return [v["versionNumber"] for v in response.json()]

    assert await listed() == [1, 2, 3]
    assert await listed(isCurrent="false") == [1, 3]
    assert await listed(isCurrent="true") == [2]
    assert await listed(versionNumbers="1,3") == [1, 3]
    assert await listed(agentConfigurationVersionIds=second["agentConfigurationVersionId"]) == [2]
    assert_error(await alice.client.get(VERSIONS, params={"versionNumbers": "x"}), 400)
    assert_error(await alice.client.get(VERSIONS, params={"isCurrent": "maybe"}), 400)
    # versionNumber is unique per agent.
    duplicate = await alice.client.post(VERSIONS, json=version_body(agent_id, 2))
    assert_error(duplicate, 409)
    other = await make_agent(alice, "versioned-other")
    assert (
        await alice.client.post(VERSIONS, json=version_body(other["agentId"], 2))
    ).status_code == 201


async def test_patch(alice: Account) -> None:
    agent = await make_agent(alice, "patched")
    agent_id = agent["agentId"]
    first = await current_version(alice, agent_id)
    second = (await alice.client.post(VERSIONS, json=version_body(agent_id, 2))).json()
    path = f"{VERSIONS}/{second['agentConfigurationVersionId']}"
    changed = await alice.client.patch(
        path,
        json={
            "instructions": "New instructions.",
            "llmConfig": {"fact_extraction_llm": {"provider": "vertexai", "model_tier": "medium"}},
            "toolConfig": [{"type": "AskAgentRunTool"}],
            "executionConfig": {"max_actions": 3, "timeout_minutes": 1},
            "systemPrompt": "Short.",
            # Not changeable: ignored.
            "agentId": "someone-else",
            "versionNumber": 99,
        },
    )
    assert changed.status_code == 200, changed.text
    record = changed.json()
    assert record["instructions"] == "New instructions." and record["systemPrompt"] == "Short."
    assert record["llmConfig"] == {
        "fact_extraction_llm": {"provider": "vertexai", "model_tier": "medium"}
    }
    assert record["toolConfig"] == [{"type": "AskAgentRunTool"}]
    assert record["executionConfig"]["max_actions"] == 3
    assert (record["agentId"], record["versionNumber"]) == (agent_id, 2)
    assert record["isCurrent"] is False and record["updatedAt"] >= second["updatedAt"]
    # isCurrent null: unchanged; true: the other current version is demoted.
    unchanged = await alice.client.patch(path, json={"isCurrent": None, "systemPrompt": None})
    assert unchanged.json()["isCurrent"] is False and unchanged.json()["systemPrompt"] is None
    promoted = await alice.client.patch(path, json={"isCurrent": True})
    assert promoted.json()["isCurrent"] is True
    assert (await current_version(alice, agent_id))["versionNumber"] == 2
    demoted = await alice.client.get(f"{VERSIONS}/{first['agentConfigurationVersionId']}")
    assert demoted.json()["isCurrent"] is False
    # Every version may be made not current; then the agent has none.
    none = await alice.client.patch(path, json={"isCurrent": False})
    assert none.json()["isCurrent"] is False
    listed = await alice.client.get(VERSIONS, params={"agentIds": agent_id, "isCurrent": "true"})
    assert listed.json() == []
    bad = await alice.client.patch(path, json={"outputSchema": {"type": "nope"}})
    assert_error(bad, 400, "invalid_agent_configuration")
    assert_error(await alice.client.patch(f"{VERSIONS}/nosuchversion", json={}), 404)
    # No delete.
    assert_error(await alice.client.delete(path), 405)


BAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("instructions empty", {"instructions": ""}),
    ("versionNumber 0", {"versionNumber": 0}),
    ("inputSchema not a schema", {"inputSchema": {"type": "nonsense"}}),
    ("inputSchema a list", {"inputSchema": [1, 2]}),
    ("outputSchema remote $ref", {"outputSchema": {"$ref": "http://example.com/s.json"}}),
    ("unknown provider", {"llmConfig": {"thought_llm": {"provider": "x", "model_tier": "small"}}}),
    ("unknown tier", {"llmConfig": {"thought_llm": {"provider": "openai", "model_tier": "xl"}}}),
    ("tier missing", {"llmConfig": {"planner_llm": {"provider": "openai"}}}),
    ("unknown role", {"llmConfig": {"boss_llm": {"provider": "openai", "model_tier": "small"}}}),
    ("unknown tool", {"toolConfig": [{"type": "RmRfTool"}]}),
    ("tool without type", {"toolConfig": [{"config": {}}]}),
    ("max_actions 0", {"executionConfig": {"max_actions": 0}}),
    ("max_actions 101", {"executionConfig": {"max_actions": 101}}),
    ("planning_interval 51", {"executionConfig": {"planning_interval": 51}}),
    ("feedback_rounds 6", {"executionConfig": {"feedback_rounds": 6}}),
    ("feedback_rounds -1", {"executionConfig": {"feedback_rounds": -1}}),
    ("timeout past the setting", {"executionConfig": {"timeout_minutes": 241}}),
    ("timeout 0", {"executionConfig": {"timeout_minutes": 0}}),
    ("unknown execution key", {"executionConfig": {"max_steps": 3}}),
]
REQUIRED = (
    "agentId",
    "instructions",
    "inputSchema",
    "outputSchema",
    "versionNumber",
    "isCurrent",
    "systemPrompt",
    "llmConfig",
    "toolConfig",
    "executionConfig",
)


async def test_bad_bodies_are_400(alice: Account, bob: Account) -> None:
    agent_id = (await make_agent(alice, "strict"))["agentId"]
    for label, change in BAD_BODIES:
        response = await alice.client.post(VERSIONS, json=version_body(agent_id, 2, **change))
        body = assert_error(response, 400)
        assert body["details"], label
    timeout = await alice.client.post(
        VERSIONS, json=version_body(agent_id, 2, executionConfig={"timeout_minutes": 241})
    )
    assert "MODERATELY_AGENT_MAX_TIMEOUT_SECONDS" in timeout.json()["message"]
    for field in REQUIRED:
        body = version_body(agent_id, 2)
        del body[field]
        response = await alice.client.post(VERSIONS, json=body)
        assert_error(response, 400)
    # Nothing was made by the refused requests.
    listed = await alice.client.get(VERSIONS, params={"agentIds": agent_id})
    assert [v["versionNumber"] for v in listed.json()] == [1]
    assert_error(await alice.client.post(VERSIONS, json=version_body("nosuchagent", 1)), 404)
    bobs = await make_agent(bob, "bobs")
    assert_error(await alice.client.post(VERSIONS, json=version_body(bobs["agentId"], 2)), 404)


async def test_readonly_token_cannot_write(alice: Account) -> None:
    agent_id = (await make_agent(alice, "read-only"))["agentId"]
    version = await current_version(alice, agent_id)
    async with readonly_client(alice, await readonly_token(alice)) as readonly:
        assert (await readonly.get(VERSIONS, params={"agentIds": agent_id})).status_code == 200
        assert_error(await readonly.post(VERSIONS, json=version_body(agent_id, 2)), 403)
        path = f"{VERSIONS}/{version['agentConfigurationVersionId']}"
        assert_error(await readonly.patch(path, json={"instructions": "x"}), 403)
    assert (await alice.client.get(path)).json() == version

"""Helpers shared by the agent tests (configuration versions, executions, tenancy)."""

from __future__ import annotations

from typing import Any

import httpx
from api_helpers import Account, wait_for_status


def version_body(agent_id: str, version_number: int, **overrides: Any) -> dict[str, Any]:
    """A complete configuration-version create body (every field is required)."""
    body: dict[str, Any] = {
        "agentId": agent_id,
        "instructions": "Answer the question in one word.",
        "inputSchema": {
            "type": "object",
            "properties": {"question": {"type": "string", "minLength": 1}},
            "required": ["question"],
        },
        "outputSchema": {
            "type": "object",
            "properties": {"answer": {"type": "string"}},
            "required": ["answer"],
        },
        "versionNumber": version_number,
        "isCurrent": False,
        "systemPrompt": None,
        "llmConfig": {},
        "toolConfig": [],
        "executionConfig": {
            "max_actions": 5,
            "planning_interval": 2,
            "feedback_rounds": 0,
            "timeout_minutes": 10,
        },
    }
    body.update(overrides)
    return body


async def make_agent(account: Account, name: str) -> dict[str, Any]:
    response = await account.client.post("/agents", json={"name": name})
    assert response.status_code == 201, response.text
    agent: dict[str, Any] = response.json()
    return agent


async def current_version(account: Account, agent_id: str) -> dict[str, Any]:
    listed = await account.client.get(
        "/agent-configuration-versions", params={"agentIds": agent_id, "isCurrent": "true"}
    )
    assert listed.status_code == 200, listed.text
    (version,) = listed.json()
    return dict(version)


def readonly_client(account: Account, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=account.client._transport,
        base_url=str(account.client.base_url),
        headers={"Authorization": f"Bearer {token}"},
    )


async def readonly_token(account: Account) -> str:
    created = await account.client.post("/api-tokens", json={"name": "ro", "role": "readonly"})
    assert created.status_code == 201, created.text
    return str(created.json()["token"])


async def wait_agent_terminal(
    client: httpx.AsyncClient, execution_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    """Poll GET /agent-executions/{id} until completed, failed or cancelled (a hang guard)."""
    return await wait_for_status(client, f"/agent-executions/{execution_id}", timeout=timeout)

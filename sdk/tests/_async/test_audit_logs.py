"""The audit log through the client against the real server (SQLite and PostgreSQL): list with
filters and paging, retrieve, an entity's history, a user's actions, and who may read them."""

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from moderatelyai_sdk import (
    AsyncModeratelyAI,
    AsyncPage,
    AuditLog,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)

pytestmark = pytest.mark.anyio


def connect(credentials: Any) -> AsyncModeratelyAI:
    return AsyncModeratelyAI(
        api_key=credentials.api_key, team_id=credentials.team_id, base_url=credentials.base_url
    )


async def test_list_retrieve_and_history(fresh: Any) -> None:
    async with connect(fresh) as client:
        agent = await client.agents.create(name=f"audited {uuid.uuid4().hex[:8]}")
        await client.agents.update(agent.agent_id, description="second thoughts")
        await client.agents.delete(agent.agent_id)

        page = await client.audit_logs.list(resource_id=agent.agent_id, order_by="event_type")
        assert isinstance(page, AsyncPage) and page["pagination"]["totalItems"] == 3
        assert all(isinstance(entry, AuditLog) for entry in page["items"])
        assert [e.event_type for e in page["items"]] == [
            "agent.created",
            "agent.deleted",
            "agent.updated",
        ]
        update = page["items"][2]
        assert update.action == "update" and update.changes == {"fields": ["description"]}
        assert update.user_id == fresh.user_id and update.team_id == fresh.team_id
        assert update.metadata is not None and update.metadata["requestId"]

        same = await client.audit_logs.retrieve(update.audit_log_id)
        assert same.to_dict() == update.to_dict()

        history = await client.audit_logs.list_for_entity("agent", agent.agent_id, action="delete")
        assert [e.event_type for e in history["items"]] == ["agent.deleted"]
        mine = await client.audit_logs.list_for_user(
            fresh.user_id, resource_type="agent", page_size=1, order_direction="desc"
        )
        assert len(mine["items"]) == 1 and mine["pagination"]["totalItems"] >= 3
        walked = [e.resource_id async for e in mine.auto_paging_iter()]
        assert walked.count(agent.agent_id) == 3

        since = datetime.now(timezone.utc) + timedelta(minutes=5)
        assert (await client.audit_logs.list(start_date=since))["items"] == []
        before = await client.audit_logs.list(
            end_date=since.replace(tzinfo=None), resource_ids=[agent.agent_id], action="create"
        )
        assert [e.resource_id for e in before["items"]] == [agent.agent_id]
        with pytest.raises(ValidationError):
            await client.audit_logs.list_for_entity("spaceship", agent.agent_id)


async def test_admins_only_and_never_another_team(server: Any, fresh: Any, outsider: Any) -> None:
    member = server.create_user(f"member-{uuid.uuid4().hex[:8]}@example.com", team_id=fresh.team_id)
    async with connect(fresh) as client:
        await client.teams.update(fresh.team_id, description="watched")
        entry = (await client.audit_logs.list(event_type="team.updated"))["items"][0]
    async with connect(member) as client:
        with pytest.raises(PermissionDeniedError):
            await client.audit_logs.list()
    async with connect(outsider) as client:
        with pytest.raises(NotFoundError):
            await client.audit_logs.retrieve(entry.audit_log_id)
        with pytest.raises(PermissionDeniedError):
            await client.audit_logs.list(team_id=fresh.team_id)
        theirs = await client.audit_logs.list_for_entity("team", fresh.team_id)
        assert theirs["items"] == []

"""The audit log: an entry per create, update, delete, membership change, execution status move
and admin token use, written in the transaction that did it (field names, never values or
secrets), and read by a team's admins only (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from api_helpers import Account, MakeAccount, assert_error
from pipelines_helpers import echo_configuration, run_configuration
from sqlalchemy import select

from moderately.db.models import Agent, AuditLog, PipelineExecution
from moderately.db.session import Database
from moderately.services.lifecycle import PIPELINE_EXECUTIONS

pytestmark = pytest.mark.anyio


async def log_of(account: Account, path: str = "/audit-logs", **params: Any) -> list[dict]:
    """Every entry `path` lists for `account` (one page of up to 1000)."""
    response = await account.client.get(path, params={"pageSize": 1000, **params})
    assert response.status_code == 200, response.text
    items: list[dict] = response.json()["items"]
    return items


def events(entries: list[dict], resource_id: str) -> list[tuple[str, str]]:
    return sorted((e["eventType"], e["action"]) for e in entries if e["resourceId"] == resource_id)


async def token_id_of(account: Account) -> str:
    """The id of the account's own API token (tokens list their first characters)."""
    tokens = (await account.client.get("/api-tokens", params={"pageSize": 1000})).json()["items"]
    return str(next(t["tokenId"] for t in tokens if t["tokenPrefix"] == account.api_key[:8]))


async def test_create_update_delete_name_the_actor_and_the_fields(alice: Account) -> None:
    created = await alice.client.post(
        "/agents",
        json={"name": "auditor", "description": "first words"},
        headers={"user-agent": "probe/1"},
    )
    assert created.status_code == 201
    agent_id = created.json()["agentId"]
    renamed = await alice.client.patch(f"/agents/{agent_id}", json={"name": "renamed-secretly"})
    assert renamed.status_code == 200
    assert (await alice.client.delete(f"/agents/{agent_id}")).status_code == 200

    entries = await log_of(alice, resourceId=agent_id, resourceType="agent")
    assert events(entries, agent_id) == [
        ("agent.created", "create"),
        ("agent.deleted", "delete"),
        ("agent.updated", "update"),
    ]
    token_id = await token_id_of(alice)
    by_event = {e["eventType"]: e for e in entries}
    for entry in entries:
        assert entry["teamId"] == alice.team_id and entry["userId"] == alice.user_id
        assert entry["apiTokenId"] == token_id and entry["sessionId"] is None
        assert entry["createdAt"].endswith("Z")
    create = by_event["agent.created"]
    assert create["changes"] is None
    assert create["metadata"]["requestId"] == created.headers["x-request-id"]
    assert create["metadata"]["userAgent"] == "probe/1" and "ipAddress" in create["metadata"]
    update = by_event["agent.updated"]
    assert update["changes"] == {"fields": ["name"]}
    assert update["metadata"]["requestId"] == renamed.headers["x-request-id"]
    # names, never values
    assert "renamed-secretly" not in json.dumps(entries) and "first words" not in json.dumps(
        entries
    )
    # the agent's version 1 was made with it
    versions = await log_of(alice, resourceType="agent_configuration_version", action="create")
    assert any(e["metadata"]["requestId"] == created.headers["x-request-id"] for e in versions)

    by_id = await alice.client.get(f"/audit-logs/{update['auditLogId']}")
    assert by_id.status_code == 200 and by_id.json() == update


async def test_bulk_deletes_and_user_updates(alice: Account) -> None:
    pipeline = (await alice.client.post("/pipelines", json={"name": "doomed"})).json()
    dataset = (await alice.client.post("/datasets", json={"name": "doomed"})).json()
    assert (await alice.client.delete(f"/pipelines/{pipeline['pipelineId']}")).status_code == 200
    assert (await alice.client.delete(f"/datasets/{dataset['datasetId']}")).status_code == 200
    user = await alice.client.patch(f"/users/{alice.user_id}", json={"fullName": "Ada L."})
    assert user.status_code == 200

    entries = await log_of(alice)
    assert events(entries, pipeline["pipelineId"]) == [
        ("pipeline.created", "create"),
        ("pipeline.deleted", "delete"),
    ]
    assert events(entries, dataset["datasetId"]) == [
        ("dataset.created", "create"),
        ("dataset.deleted", "delete"),
    ]
    (user_entry,) = [e for e in entries if e["resourceType"] == "user"]
    assert user_entry["resourceId"] == alice.user_id and user_entry["teamId"] == alice.team_id
    assert user_entry["changes"] == {"fields": ["fullName"]}


async def test_membership_changes_and_admin_token_use(
    alice: Account, make_account: MakeAccount
) -> None:
    member = await make_account(team_id=alice.team_id)
    memberships = (await alice.client.get("/team-users", params={"pageSize": 100})).json()
    team_user_id = next(
        m["teamUserId"] for m in memberships["items"] if m["userId"] == member.user_id
    )
    promoted = await alice.client.patch(f"/team-users/{team_user_id}", json={"role": "admin"})
    assert promoted.status_code == 200
    renamed = await alice.client.patch(f"/teams/{alice.team_id}", json={"name": "Audited"})
    assert renamed.status_code == 200
    removed = await alice.client.delete(f"/team-users/{team_user_id}")
    assert removed.status_code == 200

    entries = await log_of(alice)
    # the operator added the member: the system did it
    (added,) = [e for e in entries if e["resourceId"] == team_user_id and e["action"] == "create"]
    assert added["userId"] is None and added["apiTokenId"] is None
    assert added["metadata"] == {"additionalInfo": {"actor": "system"}}
    assert events(entries, team_user_id) == [
        ("team_user.created", "create"),
        ("team_user.deleted", "delete"),
        ("team_user.updated", "update"),
    ]
    change = next(e for e in entries if e["eventType"] == "team_user.updated")
    assert change["changes"] == {"fields": ["role"]} and change["userId"] == alice.user_id
    team_change = next(e for e in entries if e["eventType"] == "team.updated")
    assert team_change["resourceId"] == alice.team_id and team_change["changes"] == {
        "fields": ["name"]
    }
    # one `api_token.used` per admin request that wrote something
    token_id = await token_id_of(alice)
    used = [e for e in entries if e["eventType"] == "api_token.used"]
    assert sorted(e["metadata"]["requestId"] for e in used) == sorted(
        r.headers["x-request-id"] for r in (promoted, renamed, removed)
    )
    assert all(e["resourceId"] == token_id and e["action"] == "execute" for e in used)

    # a member's write uses no admin rights
    writer = await make_account(team_id=alice.team_id)
    made = await writer.client.post("/agents", json={"name": "by a member"})
    assert made.status_code == 201
    entries = await log_of(alice, userId=writer.user_id)
    assert [e["eventType"] for e in entries if e["resourceType"] == "api_token"] == []
    assert "agent.created" in {e["eventType"] for e in entries}


async def test_execution_status_moves_by_the_worker(alice: Account) -> None:
    execution = await run_configuration(
        alice.client, echo_configuration(), {"user_input": "hello"}, "audited run"
    )
    assert execution["status"] == "completed"
    execution_id = execution["pipelineExecutionId"]
    entries = await log_of(alice, f"/audit-logs/entity/pipeline_execution/{execution_id}")
    # status moves only: the worker's progress writes add nothing
    assert events(entries, execution_id) == [
        ("pipeline_execution.completed", "execute"),
        ("pipeline_execution.created", "create"),
        ("pipeline_execution.running", "execute"),
    ]
    for entry in entries:
        if entry["action"] == "execute":
            assert entry["userId"] is None and entry["apiTokenId"] is None
            assert entry["metadata"] == {"additionalInfo": {"actor": "system"}}
            assert entry["changes"] == {"fields": ["status"]}
            assert entry["teamId"] == alice.team_id


async def test_no_secret_reaches_the_log(alice: Account, database: Database) -> None:
    created = await alice.client.post("/api-tokens", json={"name": "ci", "role": "member"})
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["tokenId"]
    renamed = await alice.client.patch(f"/api-tokens/{token_id}", json={"name": "ci-2"})
    assert renamed.status_code == 200
    entries = await log_of(alice, resourceId=token_id)
    assert {e["eventType"] for e in entries} >= {"api_token.created", "api_token.updated"}
    async with database.session(write=False) as session:
        rows = (await session.scalars(select(AuditLog))).all()
    stored = json.dumps(
        [[r.event_type, r.resource_id, r.changes, r.meta, r.api_token_id] for r in rows]
    )
    assert secret not in stored and secret[4:] not in stored and secret[-12:] not in stored


async def test_an_entry_goes_with_its_transaction(alice: Account, database: Database) -> None:
    class Abandon(Exception):
        pass

    agent_id = ""
    with pytest.raises(Abandon):
        async with database.session() as session:
            agent = Agent(team_id=alice.team_id, name="never")
            session.add(agent)
            await session.flush()
            agent_id = agent.agent_id
            # in the same transaction, the entry is there
            seen = await session.scalar(select(AuditLog).where(AuditLog.resource_id == agent_id))
            assert seen is not None and seen.event_type == "agent.created"
            raise Abandon
    async with database.session(write=False) as session:
        assert (
            await session.scalar(select(AuditLog).where(AuditLog.resource_id == agent_id)) is None
        )
        assert await session.get(Agent, agent_id) is None


async def test_bulk_status_move_is_recorded_and_rolled_back_with_it(
    alice: Account, database: Database
) -> None:
    pipeline = (await alice.client.post("/pipelines", json={"name": "p"})).json()
    version = await alice.client.post(
        "/pipeline-configuration-versions",
        json={"pipelineId": pipeline["pipelineId"], "configuration": echo_configuration()},
    )
    version_id = version.json()["pipelineConfigurationVersionId"]
    async with database.session() as session:
        execution = PipelineExecution(
            pipeline_configuration_version_id=version_id,
            pipeline_id=pipeline["pipelineId"],
            team_id=alice.team_id,
            status="pending",
            pipeline_input={},
            pipeline_input_summary="manual",
        )
        session.add(execution)
    execution_id = execution.pipeline_execution_id

    async def moves() -> list[str]:
        async with database.session(write=False) as session:
            found = await session.scalars(
                select(AuditLog.event_type).where(AuditLog.resource_id == execution_id)
            )
            return sorted(found)

    with pytest.raises(RuntimeError):
        async with database.session() as session:
            await PIPELINE_EXECUTIONS.transition(session, execution_id, "running")
            raise RuntimeError("abandoned")
    assert await moves() == ["pipeline_execution.created"]
    async with database.session() as session:
        await PIPELINE_EXECUTIONS.transition(session, execution_id, "running")
        # a progress write (status unchanged) is not a move
        await PIPELINE_EXECUTIONS.transition(session, execution_id, "running", note={"m": 1})
    assert await moves() == ["pipeline_execution.created", "pipeline_execution.running"]


async def test_filters_and_paging(alice: Account) -> None:
    ids = []
    for name in ("a", "b", "c"):
        response = await alice.client.post("/agents", json={"name": f"filter-{name}"})
        ids.append(response.json()["agentId"])
    await alice.client.patch(f"/agents/{ids[0]}", json={"description": "x"})
    token_id = await token_id_of(alice)

    chosen = await log_of(alice, resourceIds=f"{ids[0]},{ids[1]}", resourceType="agent")
    assert {e["resourceId"] for e in chosen} == {ids[0], ids[1]}
    updates = await log_of(alice, action="update", resourceType="agent")
    assert [e["resourceId"] for e in updates] == [ids[0]]
    assert updates == await log_of(alice, eventType="agent.updated", resourceId=ids[0])
    mine = await log_of(alice, userIds=alice.user_id, apiTokenIds=token_id, resourceType="agent")
    assert {e["resourceId"] for e in mine} == set(ids)
    assert await log_of(alice, apiTokenId="nobody") == []
    assert mine == await log_of(alice, f"/audit-logs/user/{alice.user_id}", resourceType="agent")

    first = datetime.fromisoformat(chosen[0]["createdAt"].replace("Z", "+00:00"))
    later = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    assert await log_of(alice, startDate=later) == []
    assert len(await log_of(alice, resourceType="agent", endDate=later)) >= 4
    since = await log_of(alice, resourceType="agent", startDate=first.isoformat())
    assert {e["resourceId"] for e in since} >= {e["resourceId"] for e in chosen}

    page = await alice.client.get(
        "/audit-logs",
        params={"resourceType": "agent", "pageSize": 2, "page": 2, "orderBy": "eventType"},
    )
    body = page.json()
    assert body["pagination"]["totalItems"] == 4 and body["pagination"]["pageSize"] == 2
    assert body["pagination"]["hasPreviousPage"] is True
    ordered = await log_of(alice, resourceType="agent", orderBy="eventType", orderDirection="desc")
    assert ordered[0]["eventType"] == "agent.updated"

    assert_error(await alice.client.get("/audit-logs", params={"action": "delete-all"}), 400)
    assert_error(await alice.client.get("/audit-logs", params={"orderBy": "teamId"}), 400)
    assert_error(await alice.client.get("/audit-logs", params={"startDate": "soon"}), 400)
    assert_error(await alice.client.get("/audit-logs", params={"pageSize": 1001}), 400)
    assert_error(await alice.client.get(f"/audit-logs/entity/spaceship/{ids[0]}"), 400)


async def test_admins_only_and_never_another_team(
    alice: Account, bob: Account, make_account: MakeAccount
) -> None:
    await alice.client.patch(f"/teams/{alice.team_id}", json={"description": "watched"})
    entry = (await log_of(alice))[0]
    member = await make_account(team_id=alice.team_id)
    assert_error(await member.client.get("/audit-logs"), 403)
    assert_error(await member.client.get(f"/audit-logs/{entry['auditLogId']}"), 403)
    assert_error(await member.client.get(f"/audit-logs/user/{member.user_id}"), 403)
    readonly = await alice.client.post("/api-tokens", json={"name": "ro", "role": "readonly"})
    headers = {"Authorization": f"Bearer {readonly.json()['token']}"}
    assert_error(await alice.client.get("/audit-logs", headers=headers), 403)

    # bob: alice's entries are not found, naming her team is refused, his own log is his
    assert_error(await bob.client.get(f"/audit-logs/{entry['auditLogId']}"), 404)
    assert_error(await bob.client.get("/audit-logs", params={"teamId": alice.team_id}), 403)
    assert_error(
        await bob.client.get(
            f"/audit-logs/entity/team/{alice.team_id}", params={"teamId": alice.team_id}
        ),
        403,
    )
    assert await log_of(bob, f"/audit-logs/entity/team/{alice.team_id}") == []
    assert await log_of(bob, f"/audit-logs/user/{alice.user_id}") == []
    await bob.client.patch(f"/teams/{bob.team_id}", json={"description": "his"})
    assert {e["teamId"] for e in await log_of(bob)} == {bob.team_id}
    assert_error(await alice.client.get("/audit-logs/nope"), 404)

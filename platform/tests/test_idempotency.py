"""Idempotency-Key on POST: the first response is replayed; the work is done once."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import httpx
import pytest
from api_helpers import Account, MakeAccount, account_in, assert_error
from fastapi import FastAPI
from sqlalchemy import select

from moderately.db.models import IdempotencyRecord
from moderately.db.session import Database
from moderately.ids import new_id
from moderately.services import idempotency
from moderately.services.auth import hash_token
from moderately.testing import RunningServer

pytestmark = pytest.mark.anyio


async def test_repeat_returns_first_response(alice: Account) -> None:
    headers = {"Idempotency-Key": "create-agent-1"}
    first = await alice.client.post("/agents", json={"name": "once"}, headers=headers)
    second = await alice.client.post("/agents", json={"name": "once"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers.get("idempotent-replayed") == "true"
    agents = (await alice.client.get("/agents", params={"nameLike": "once"})).json()
    assert agents["pagination"]["totalItems"] == 1
    # without the key the same request runs again (and clashes on the name)
    assert_error(await alice.client.post("/agents", json={"name": "once"}), 409)


async def test_errors_are_replayed_too(alice: Account) -> None:
    await alice.client.post("/agents", json={"name": "taken"})
    headers = {"Idempotency-Key": "clash"}
    first = await alice.client.post("/agents", json={"name": "taken"}, headers=headers)
    assert_error(first, 409)
    assert first.headers["x-should-retry"] == "false"  # a duplicate name stays one
    second = await alice.client.post("/agents", json={"name": "taken"}, headers=headers)
    assert second.status_code == 409 and second.json() == first.json()
    assert second.headers["x-should-retry"] == "false"  # a replay never changes


async def test_same_key_other_request_is_refused(alice: Account) -> None:
    headers = {"Idempotency-Key": "reused"}
    assert (
        await alice.client.post("/teams", json={"name": "T1"}, headers=headers)
    ).status_code == 200
    response = await alice.client.post("/teams", json={"name": "T2"}, headers=headers)
    body = assert_error(response, 400, "IDEMPOTENCY_KEY_REUSED")
    assert body["details"][0]["field"] == "Idempotency-Key"
    teams = (await alice.client.get("/teams", params={"name": "T2"})).json()
    assert teams["items"] == []


async def test_keys_are_per_token(alice: Account, bob: Account) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    a = await alice.client.post("/agents", json={"name": "mine"}, headers=headers)
    b = await bob.client.post("/agents", json={"name": "mine"}, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json()["agentId"] != b.json()["agentId"]
    assert b.json()["teamId"] == bob.team_id


async def test_unauthenticated_answers_are_not_kept(alice: Account) -> None:
    headers = {"Idempotency-Key": "auth-later", "Authorization": "Bearer mai_wrong"}
    assert_error(await alice.client.post("/agents", json={"name": "k"}, headers=headers), 401)
    assert_error(await alice.client.post("/agents", json={"name": "k"}, headers=headers), 401)


async def test_overlong_key_is_400(alice: Account) -> None:
    headers = {"Idempotency-Key": "k" * 300}
    assert_error(await alice.client.post("/agents", json={"name": "k"}, headers=headers), 400)


async def test_key_in_flight_is_409(alice: Account, database: Database) -> None:
    body = b'{"name":"slow"}'
    digest = hashlib.sha256()
    for part in (b"POST", b"/agents", b"", body):
        digest.update(part + b"\0")
    # Claim the key the way a concurrent, still running request would have.
    async with database.session() as session:
        outcome = await idempotency.begin(
            session,
            scope=hash_token(alice.api_key),
            key="busy",
            request_hash=digest.hexdigest(),
            ttl_seconds=60,
        )
    assert isinstance(outcome, idempotency.Started)
    headers = {"Idempotency-Key": "busy", "Content-Type": "application/json"}
    response = await alice.client.post("/agents", content=body, headers=headers)
    assert_error(response, 409, "IDEMPOTENCY_KEY_IN_USE")
    assert response.headers["retry-after"] == "1"
    assert response.headers["x-should-retry"] == "true"  # transient: the SDK retries it
    async with database.session() as session:
        await idempotency.abandon(session, record_id=outcome.record_id)
    assert (await alice.client.post("/agents", content=body, headers=headers)).status_code == 201


async def test_an_immediate_repeat_is_replayed(
    live_server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record is final before the response leaves: a repeat sent the moment the first
    answer arrives gets the stored answer, never IDEMPOTENCY_KEY_IN_USE (real HTTP).

    Storing the record is slowed down (the server runs in this process), so the race, when
    there is one, is lost every time rather than now and then. The repeat goes out on another
    connection, as a retry on a fresh connection does: uvicorn serves one connection's requests
    strictly in turn, which would hide the race.
    """
    finish = idempotency.finish

    async def slow_finish(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.02)
        await finish(*args, **kwargs)

    monkeypatch.setattr(idempotency, "finish", slow_finish)
    auth = {"Authorization": f"Bearer {live_server.admin.api_key}"}
    async with (
        httpx.AsyncClient(base_url=live_server.base_url, headers=auth) as one,
        httpx.AsyncClient(base_url=live_server.base_url, headers=auth) as other,
    ):
        for attempt in range(50):
            headers = {"Idempotency-Key": f"race-{new_id()}"}
            body = {"name": f"race {attempt} {new_id()}"}
            first = await one.post("/agents", json=body, headers=headers)
            second = await other.post("/agents", json=body, headers=headers)
            assert first.status_code == 201, first.text
            assert (second.status_code, second.json()) == (201, first.json()), second.text
            assert second.headers["idempotent-replayed"] == "true"


async def _records(database: Database) -> list[IdempotencyRecord]:
    async with database.session(write=False) as session:
        return list((await session.scalars(select(IdempotencyRecord))).all())


async def test_a_token_secret_is_never_kept_or_replayed(alice: Account, database: Database) -> None:
    headers = {"Idempotency-Key": "new-token-1"}
    first = await alice.client.post("/api-tokens", json={"name": "ci"}, headers=headers)
    assert first.status_code == 201
    secret, token_id = first.json()["token"], first.json()["tokenId"]
    again = await alice.client.post("/api-tokens", json={"name": "ci"}, headers=headers)
    body = assert_error(again, 409, "IDEMPOTENCY_KEY_REUSED_SECRET")
    assert token_id in body["message"] and secret not in again.text
    assert again.headers["x-should-retry"] == "false"
    # exactly one token was made, and no stored record holds its secret
    listed = (await alice.client.get("/api-tokens", params={"teamId": alice.team_id})).json()
    assert [t["tokenId"] for t in listed["items"] if t["name"] == "ci"] == [token_id]
    for record in await _records(database):
        assert secret not in (record.response_body or "")
        assert secret[len("mai_") :] not in repr(vars(record))
    # still refused once the token is gone: the key remembers only what it created
    assert (await alice.client.delete(f"/api-tokens/{token_id}")).status_code == 204
    again = await alice.client.post("/api-tokens", json={"name": "ci"}, headers=headers)
    assert_error(again, 409, "IDEMPOTENCY_KEY_REUSED_SECRET")


async def test_a_revoked_token_gets_no_replay(alice: Account) -> None:
    created = (await alice.client.post("/api-tokens", json={"name": "soon revoked"})).json()
    headers = {"Idempotency-Key": "agent-by-revoked", "Authorization": f"Bearer {created['token']}"}
    first = await alice.client.post("/agents", json={"name": "r"}, headers=headers)
    assert first.status_code == 201
    assert (await alice.client.delete(f"/api-tokens/{created['tokenId']}")).status_code == 204
    # the repeat is authenticated before anything is replayed
    assert_error(await alice.client.post("/agents", json={"name": "r"}, headers=headers), 401)


async def test_a_replay_is_authorized_again(app: FastAPI, make_account: MakeAccount) -> None:
    owner = await make_account()
    second = await make_account(team_id=owner.team_id)
    # `second` becomes an admin with an admin token, and mints a token with a key
    members = (await owner.client.get("/team-users", params={"userIds": second.user_id})).json()
    membership = members["items"][0]["teamUserId"]
    promoted = await owner.client.patch(f"/team-users/{membership}", json={"role": "admin"})
    assert promoted.status_code == 200
    second = await account_in(app, second, owner.team_id, role="admin")
    headers = {"Idempotency-Key": "mint"}
    assert (
        await second.client.post("/api-tokens", json={"name": "k"}, headers=headers)
    ).status_code == 201
    keyed_agent = {"Idempotency-Key": "agent"}
    first = await second.client.post("/agents", json={"name": "a"}, headers=keyed_agent)
    assert first.status_code == 201
    # demoted: the admin operation's repeat is refused as the operation itself would be,
    # while the member operation's repeat still replays
    demoted = await owner.client.patch(f"/team-users/{membership}", json={"role": "member"})
    assert demoted.status_code == 200
    refused = await second.client.post("/api-tokens", json={"name": "k"}, headers=headers)
    body = assert_error(refused, 403)
    assert "admin role" in body["message"]
    replayed = await second.client.post("/agents", json={"name": "a"}, headers=keyed_agent)
    assert replayed.status_code == 201 and replayed.json() == first.json()
    await second.client.aclose()


async def test_an_expired_key_is_claimed_afresh_without_a_purge(
    alice: Account, database: Database
) -> None:
    """The middleware deletes expired records only now and then; an expired record of the key
    is still never answered from: the key is claimed again and the request runs."""
    scope = hash_token(alice.api_key)
    async with database.session() as session:
        first = await idempotency.begin(
            session, scope=scope, key="old", request_hash="h1", ttl_seconds=-1
        )
        assert isinstance(first, idempotency.Started)
        await idempotency.finish(
            session,
            record_id=first.record_id,
            status_code=201,
            content_type=None,
            body="{}",
            authorization=[],
        )
    async with database.session() as session:
        again = await idempotency.begin(
            session,
            scope=scope,
            key="old",
            request_hash="h2",
            ttl_seconds=60,
            purge_expired=False,
        )
    # A different request under the key: not Mismatch, not Replay, since the old one expired.
    assert isinstance(again, idempotency.Started)
    async with database.session(write=False) as session:
        kept = (
            await session.scalars(
                select(IdempotencyRecord).where(
                    IdempotencyRecord.scope == scope, IdempotencyRecord.key == "old"
                )
            )
        ).all()
    assert [record.request_hash for record in kept] == ["h2"]
    assert kept[0].status_code is None

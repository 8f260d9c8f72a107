"""The authorization matrix (issue 10): every operation of the app's OpenAPI document against
the table in authorization_table.py, on SQLite and PostgreSQL.

The callers are one user's tokens bound to team A - token roles readonly, member and admin, for
a user who is a member of A and for one who is an admin of A; both users are admins of team B.
For every operation:

* the caller's own team (A): allowed by the table -> neither 401 nor 403; refused -> 403 whose
  message names the role the operation needs;
* team B's objects (a team the same user is admin of, with a token bound to A): every
  id-bearing field of the operation - path and query parameters and body fields whose names end
  in Id/Ids (from the OpenAPI document), each alone and all at once - set to B's object answers
  404 or 403 (a list filter: a page without any of B's objects), and the database is the same
  after all of them (a snapshot of every table's rows, bookkeeping excepted, see SNAPSHOT_SKIPS);
* ids inside values (a pipeline's configuration, `pipelineInput`, `agentInput`, tool configs):
  B's id answers exactly as an id that names nothing does (no oracle); what is accepted as data
  is resolved at run time in the execution's team, where B's objects are not found
  (test_run_time_ids_resolve_in_the_run_team).

The app has no workers (executions stay pending, nothing changes the database behind the
snapshots) and a database of its own; fixtures are made once per database.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import Account, client_for, empty_database, new_account, unique_email
from authorization_table import (
    PUBLIC,
    ROLE_RANK,
    SIGNED,
    TABLE,
    Call,
    Me,
    Objects,
    Rule,
    agent_version_body,
    is_id_field,
    kind_of,
    pipeline_configuration,
    run_agent,
    run_pipeline,
    unique,
)
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import Connection, MetaData, Table, select, text

from moderately.agents.resources import scope_ids
from moderately.api import ROUTERS
from moderately.app import create_app
from moderately.config import Settings
from moderately.db.session import Database
from moderately.jobs.agent_host import DbAgentHost
from moderately.jobs.pipeline_context import RunSignals, TeamRunHost
from moderately.services import team_users, teams, users
from moderately.services.api_tokens import issue_token

pytestmark = pytest.mark.anyio

MEMBERSHIPS = ("member", "admin")
TOKEN_ROLES = ("readonly", "member", "admin")
# Table -> columns left out of the snapshot (None: the whole table), and why.
SNAPSHOT_SKIPS: dict[str, frozenset[str] | None] = {
    # Every request, refused or not, is counted for its token (usage reports), and the counts'
    # flush stamps the token's last use.
    "api_token_usage": None,
    "api_tokens": frozenset({"last_used_at"}),
    # Every request, refused or not, takes from its token's bucket.
    "rate_limit_buckets": None,
    # The log of what requests did (test_audit_logs.py checks what it records); a refused
    # request may be worth a line there, it changes no object.
    "audit_logs": None,
}
# A made-up id that names nothing (the shape of the server's ids).
NOWHERE = "zzzzzzzzzzzzzzzzzzzzzzzz"
TEXT = b"abc"


def operations_of(app: FastAPI) -> set[str]:
    """Every operation: the OpenAPI document's, and the routes left out of it (one entry per
    route, `*` for its methods)."""
    found = {
        f"{method.upper()} {path}"
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete", "head", "options")
    }
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and not route.include_in_schema:
                found.add(f"* {route.path}")
    return found


# ---- the world: two teams, their objects and the callers ----


@dataclass
class Caller:
    membership: str  # the user's role in team A
    token_role: str
    client: httpx.AsyncClient
    me: Me
    # The user's own objects in team B (its membership and a B-bound token of its own): team B's
    # objects too, for a token bound to A.
    own_in_b: dict[str, str]

    @property
    def role(self) -> str:
        return min(self.membership, self.token_role, key=ROLE_RANK.__getitem__)

    def may(self, access: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[access]

    def __str__(self) -> str:
        return f"{self.token_role} token of a team {self.membership}"


@dataclass
class World:
    app: FastAPI
    database: Database
    owner: Account  # admin of team A (makes A's objects)
    a: Objects
    b: Objects
    callers: list[Caller]
    users: dict[str, str]  # membership -> the user of the callers with it
    tables: list[Table]
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self, api_key: str) -> httpx.AsyncClient:
        client = client_for(self.app, api_key)
        self.clients.append(client)
        return client

    async def snapshot(self) -> dict[str, list[str]]:
        """Every table's rows (as sorted JSON), bookkeeping columns and tables left out."""

        def read(connection: Connection) -> dict[str, list[str]]:
            rows = {}
            for table in self.tables:
                skipped = SNAPSHOT_SKIPS.get(table.name) or frozenset()
                columns = [c for c in table.columns if c.name not in skipped]
                rows[table.name] = sorted(
                    json.dumps(dict(row._mapping), default=str, sort_keys=True)
                    for row in connection.execute(select(*columns))
                )
            return rows

        # One pass on one connection (half the time of a query per await).
        async with self.database.engine.connect() as connection:
            return await connection.run_sync(read)

    async def fresh(self, kind: str) -> str:
        """A new object of team A of `kind`, for a request that deletes or changes it."""
        owner = self.owner.client
        if kind == "team_user":
            async with self.database.session() as session:
                user = await users.add_user(session, email=unique_email("matrix"))
                member = await team_users.add_member(
                    session, team_id=self.a.team, user_id=user.user_id, role="member"
                )
                return member.team_user_id
        if kind == "token":
            response = await owner.post(
                "/api-tokens", json={"name": unique("t"), "role": "readonly"}
            )
            return str(ok(response, 201)["tokenId"])
        if kind == "file":
            body = {"fileName": unique("f") + ".txt", "fileSize": 3}
            return str(ok(await owner.post("/files/upload-url", json=body), 201)["file"]["fileId"])
        made = {
            "agent": ("/agents", {"name": unique("agent")}, "agentId"),
            "dataset": ("/datasets", {"name": unique("dataset")}, "datasetId"),
            "pipeline": ("/pipelines", {"name": unique("pipeline")}, "pipelineId"),
            "agent_execution": ("/agent-executions", run_agent(self.a).body, "agentExecutionId"),
            "pipeline_execution": (
                "/pipeline-executions",
                run_pipeline(self.a).body,
                "pipelineExecutionId",
            ),
            "pipeline_version": (
                "/pipeline-configuration-versions",
                {"pipelineId": self.a.pipeline, "configuration": pipeline_configuration(self.a)},
                "pipelineConfigurationVersionId",
            ),
        }
        path, body, key = made[kind]
        return str(ok(await owner.post(path, json=body), 201)[key])

    async def fresh_team(self, caller: Caller) -> tuple[httpx.AsyncClient, Me]:
        """A new team the caller's user belongs to as it does to A, with a token of the
        caller's role bound to it."""
        user_id = self.users[caller.membership]
        async with self.database.session() as session:
            admin = user_id if caller.membership == "admin" else self.owner.user_id
            team = await teams.add_team(
                session, name=unique("team"), description=None, admin_user_id=admin
            )
            if caller.membership != "admin":
                await team_users.add_member(
                    session, team_id=team.team_id, user_id=user_id, role=caller.membership
                )
            issued = await issue_token(
                session, team_id=team.team_id, user_id=user_id, name="fresh", role=caller.token_role
            )
            team_id = team.team_id
        membership = await team_user_of(self.database, team_id, user_id)
        return self.client(issued.secret), Me(user_id, team_id, membership)


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def team_user_of(database: Database, team_id: str, user_id: str) -> str:
    async with database.session(write=False) as session:
        found = await session.execute(
            text("SELECT team_user_id FROM team_users WHERE team_id = :t AND user_id = :u"),
            {"t": team_id, "u": user_id},
        )
        return str(found.scalar_one())


async def make_objects(database: Database, owner: Account, team_only: Account) -> Objects:
    """One of each object in `owner`'s team (its admin); `team_only` is a user of that team
    only (its user and membership are the team's `user` and `team_user`)."""
    client = owner.client
    sha = hashlib.sha256(TEXT).hexdigest()
    ticket = ok(
        await client.post(
            "/files/upload-url",
            json={
                "fileName": "notes.txt",
                "fileSize": 3,
                "fileHash": sha,
                "mimeType": "text/plain",
            },
        ),
        201,
    )
    assert (await client.put(ticket["uploadUrl"], content=TEXT)).status_code == 200
    file_id = ticket["file"]["fileId"]
    ok(await client.post(f"/files/{file_id}/complete", json={"fileSize": 3, "fileHash": sha}))

    dataset = ok(await client.post("/datasets", json={"name": "matrix data"}), 201)["datasetId"]
    ticket = ok(
        await client.post(
            "/dataset-data-versions",
            json={"datasetId": dataset, "fileName": "d.csv", "fileType": "csv"},
        ),
        201,
    )
    data_version = ticket["dataVersion"]["datasetDataVersionId"]
    assert (await client.put(ticket["uploadUrl"], content=b"a\n1\n")).status_code == 200
    ok(await client.post(f"/dataset-data-versions/{data_version}/complete"))
    schema = ok(
        await client.post(
            "/dataset-schema-versions",
            json={"datasetId": dataset, "columns": [{"name": "a", "type": "int"}]},
        ),
        201,
    )["datasetSchemaVersionId"]

    agent = ok(await client.post("/agents", json={"name": "matrix agent"}), 201)["agentId"]
    agent_version = ok(
        await client.post(
            "/agent-configuration-versions",
            json={**agent_version_body(agent), "versionNumber": 2, "isCurrent": True},
        ),
        201,
    )["agentConfigurationVersionId"]
    pipeline = ok(await client.post("/pipelines", json={"name": "matrix pipeline"}), 201)[
        "pipelineId"
    ]
    token = ok(
        await client.post("/api-tokens", json={"name": "matrix token", "role": "readonly"}), 201
    )["tokenId"]
    team_user = ok(await client.get("/team-users", params={"userIds": team_only.user_id}))
    partial = Objects(
        team=owner.team_id,
        user=team_only.user_id,
        team_user=team_user["items"][0]["teamUserId"],
        token=token,
        agent=agent,
        agent_version=agent_version,
        agent_execution="",
        file=file_id,
        dataset=dataset,
        data_version=data_version,
        schema_version=schema,
        pipeline=pipeline,
        pipeline_version="",
        pipeline_execution="",
        audit_log=None,
    )
    pipeline_version = ok(
        await client.post(
            "/pipeline-configuration-versions",
            json={"pipelineId": pipeline, "configuration": pipeline_configuration(partial)},
        ),
        201,
    )["pipelineConfigurationVersionId"]
    partial = replace(partial, pipeline_version=pipeline_version)
    pipeline_execution = ok(
        await client.post("/pipeline-executions", json=run_pipeline(partial).body), 201
    )
    agent_execution = ok(await client.post("/agent-executions", json=run_agent(partial).body), 201)
    async with database.session(write=False) as session:
        audit_log = (
            await session.execute(
                text("SELECT audit_log_id FROM audit_logs WHERE team_id = :t LIMIT 1"),
                {"t": owner.team_id},
            )
        ).scalar()
    return replace(
        partial,
        pipeline_execution=pipeline_execution["pipelineExecutionId"],
        agent_execution=agent_execution["agentExecutionId"],
        audit_log=audit_log,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def matrix_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with empty_database(request.param, tmp_path_factory, "matrix-sqlite") as url:
        yield url


@pytest.fixture(scope="module")
async def world(matrix_url: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("matrix-data"),
        database_url=matrix_url,
        workers=0,
        # No worker answers the schema inference job: 503 at once instead of after a minute.
        infer_wait_seconds=0.05,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        database: Database = app.state.database
        owner = await new_account(app, email=unique_email("owner-a"))
        other = await new_account(app, email=unique_email("owner-b"))
        member_of_a = await new_account(app, email=unique_email("member-a"), team_id=owner.team_id)
        member_of_b = await new_account(app, email=unique_email("member-b"), team_id=other.team_id)
        a = await make_objects(database, owner, member_of_a)
        b = await make_objects(database, other, member_of_b)
        callers: list[Caller] = []
        chosen: dict[str, str] = {}
        clients = [owner.client, other.client, member_of_a.client, member_of_b.client]
        for membership in MEMBERSHIPS:
            async with database.session() as session:
                user = await users.add_user(session, email=unique_email(f"caller-{membership}"))
                await team_users.add_member(
                    session, team_id=a.team, user_id=user.user_id, role=membership
                )
                # The other team: one the same user is admin of (with a token for it).
                in_b = await team_users.add_member(
                    session, team_id=b.team, user_id=user.user_id, role="admin"
                )
                token_in_b = await issue_token(
                    session, team_id=b.team, user_id=user.user_id, name="in B", role="admin"
                )
                own_in_b = {"team_user": in_b.team_user_id, "token": token_in_b.token.token_id}
                keys = {
                    role: (
                        await issue_token(
                            session, team_id=a.team, user_id=user.user_id, name=role, role=role
                        )
                    ).secret
                    for role in TOKEN_ROLES
                }
                user_id = user.user_id
            chosen[membership] = user_id
            me = Me(user_id, a.team, await team_user_of(database, a.team, user_id))
            for role, key in keys.items():
                client = client_for(app, key)
                clients.append(client)
                callers.append(Caller(membership, role, client, me, own_in_b))
        metadata = MetaData()
        async with database.engine.connect() as connection:
            await connection.run_sync(metadata.reflect)
        tables = [
            t
            for name, t in sorted(metadata.tables.items())
            if SNAPSHOT_SKIPS.get(name, ()) is not None
        ]
        world = World(app, database, owner, a, b, callers, chosen, tables, clients)
        try:
            yield world
        finally:
            for client in world.clients:
                await client.aclose()


# ---- requests ----


@dataclass(frozen=True)
class IdField:
    name: str
    where: str  # path, query or body
    kind: str


def id_fields(operation: dict[str, Any], components: Mapping[str, Any]) -> list[IdField]:
    """The id-bearing parameters and body fields of an OpenAPI operation; an unknown one fails,
    naming what to add to authorization_table.ID_KINDS."""
    found: list[tuple[str, str]] = [
        (p["name"], p["in"]) for p in operation.get("parameters", []) if is_id_field(p["name"])
    ]
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    seen: set[str] = set()
    for schema in _forms(body.get("schema", {}), components):
        for name in schema.get("properties", {}):
            if is_id_field(name) and name not in seen:
                seen.add(name)
                found.append((name, "body"))
    fields = []
    for name, where in found:
        kind = kind_of(name)
        assert kind is not None, (
            f"{where} field {name!r} names an object the matrix does not know: add it to "
            "authorization_table.ID_KINDS"
        )
        fields.append(IdField(name, where, kind))
    return fields


def _forms(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The object schemas a body may take (through $ref, anyOf, oneOf and allOf)."""
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    yield schema
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            yield from _forms(sub, components)


def with_foreign(call: Call, fields: list[IdField], foreign: Objects) -> Call:
    """`call` with each of `fields` naming `foreign`'s object of its kind. A body field goes into
    the body form that already names an object of its kind (replacing it), else the main one."""
    path, query = dict(call.path), dict(call.query)
    forms = [dict(call.body or {}), *map(dict, call.alternatives)]
    chosen = 0
    for f in fields:
        value = getattr(foreign, f.kind)
        assert value is not None, f"team B has no {f.kind}"
        if f.where == "path":
            path[f.name] = value
        elif f.where == "query":
            query[f.name] = value
        else:
            chosen = next(
                (i for i, form in enumerate(forms) if any(kind_of(k) == f.kind for k in form)),
                chosen,
            )
            form = forms[chosen]
            for key in [k for k in form if is_id_field(k) and kind_of(k) == f.kind]:
                del form[key]
            form[f.name] = value
    body = forms[chosen] if any(f.where == "body" for f in fields) else call.body
    return Call(path=path, query=query, body=body)


async def send(client: httpx.AsyncClient, method: str, template: str, call: Call) -> httpx.Response:
    path = template
    for name, value in call.path.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"{template}: the table's request leaves a path parameter out"
    return await client.request(
        method, path, params=dict(call.query), json=call.body if method != "GET" else None
    )


def describe(
    caller: Caller | str, method: str, template: str, call: Call, response: httpx.Response
) -> str:
    return (
        f"{caller}: {method} {template} path={dict(call.path)} query={dict(call.query)} "
        f"body={json.dumps(call.body)[:300]} -> {response.status_code} {response.text[:300]}"
    )


def diff(before: dict[str, list[str]], after: dict[str, list[str]]) -> str:
    lines = []
    for table in sorted(set(before) | set(after)):
        old, new = set(before.get(table, [])), set(after.get(table, []))
        lines += [f"  {table} - {row}" for row in sorted(old - new)]
        lines += [f"  {table} + {row}" for row in sorted(new - old)]
    return "\n".join(lines)


def foreign_ids(world: World) -> list[str]:
    """Every id of team B: its objects and the callers' own objects there."""
    ids = [v for v in dataclasses.asdict(world.b).values() if v]
    return ids + [v for caller in world.callers for v in caller.own_in_b.values()]


# ---- the tests ----


def test_the_table_covers_every_operation(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, workers=0))
    operations = operations_of(app)
    missing = sorted(operations - set(TABLE))
    stale = sorted(set(TABLE) - operations)
    assert not missing, (
        "operations without an entry in authorization_table.TABLE (who may call them?): "
        + ", ".join(missing)
    )
    assert not stale, "entries of authorization_table.TABLE no operation has: " + ", ".join(stale)


@pytest.mark.parametrize("operation", sorted(TABLE))
async def test_operation(world: World, operation: str) -> None:
    method, template = operation.split(" ", 1)
    rule = TABLE[operation]
    if rule.access == PUBLIC:
        async with client_for(world.app, None) as anonymous:
            response = await anonymous.request(method, template)
        assert response.status_code == 200, response.text
        for caller in world.callers:
            assert (await caller.client.request(method, template)).status_code == 200
        return
    if rule.access == SIGNED:
        # A bearer token grants nothing here: a URL without a valid signature is refused.
        for caller in world.callers:
            for verb in ("GET", "PUT"):
                path = template.replace("{token}", "forged.signature")
                response = await caller.client.request(
                    verb, path, content=b"x" if verb == "PUT" else None
                )
                assert response.status_code == 403, (caller, verb, response.text)
        return
    document = world.app.openapi()
    spec = document["paths"][template][method.lower()]
    fields = id_fields(spec, document.get("components", {}).get("schemas", {}))
    for case in (rule, *rule.variants):
        await check_rule(world, method, template, case, fields)


async def check_rule(
    world: World, method: str, template: str, rule: Rule, fields: list[IdField]
) -> None:
    # The own-team requests, with their fresh objects made before the first snapshot.
    own: list[tuple[Caller, httpx.AsyncClient, Call]] = []
    for caller in world.callers:
        client, me, objects = caller.client, caller.me, world.a
        if rule.fresh == "team":
            client, me = await world.fresh_team(caller)
        elif rule.fresh is not None:
            objects = replace(objects, **{rule.fresh: await world.fresh(rule.fresh)})
        own.append((caller, client, rule.call(objects, me)))

    before = await world.snapshot()
    done: list[str] = []
    problems: list[str] = []
    for caller in world.callers:
        problems += await check_foreign_ids(world, caller, method, template, rule, fields, done)
    for caller, client, call in own:
        if caller.may(rule.access):
            continue
        response = await send(client, method, template, call)
        done.append(describe(caller, method, template, call, response))
        message = response.json().get("message", "") if response.status_code == 403 else ""
        if f"the {rule.access} role" not in message:
            problems.append(f"needs {rule.access}, must be 403 naming it: {done[-1]}")
    for caller in world.callers:
        if not caller.may(rule.access):
            problems += (await check_nested_ids(world, caller, method, template, rule, done))[0]
    after = await world.snapshot()
    assert not problems, "\n".join(problems)
    assert before == after, (
        f"refused requests changed the database:\n{diff(before, after)}\nrequests:\n"
        + "\n".join(done)
    )

    # Allowed: neither 401 nor 403 (nor a server error); these may change the database.
    for caller, client, call in own:
        if caller.may(rule.access):
            response = await send(client, method, template, call)
            if response.status_code in (401, 403, 500):
                problems.append(
                    f"allowed for {rule.access}: "
                    + describe(caller, method, template, call, response)
                )
    assert not problems, "\n".join(problems)
    # Ids inside values, by the strongest caller allowed (the last: admin token of an admin).
    strongest = world.callers[-1]
    if rule.nested and strongest.may(rule.access):
        before, done = await world.snapshot(), []
        problems, statuses = await check_nested_ids(world, strongest, method, template, rule, done)
        assert not problems, "\n".join(problems)
        # Refused ids change nothing; ids accepted as data are stored (and resolved at run
        # time: test_run_time_ids_resolve_in_the_run_team).
        if all(status >= 400 for status in statuses):
            after = await world.snapshot()
            assert before == after, (
                f"refused requests changed the database:\n{diff(before, after)}\nrequests:\n"
                + "\n".join(done)
            )


async def check_foreign_ids(
    world: World,
    caller: Caller,
    method: str,
    template: str,
    rule: Rule,
    fields: list[IdField],
    done: list[str],
) -> list[str]:
    """Team B's object in each id-bearing field, then in all of them: 403 or 404 (a list filter:
    a page), never any of B's ids in the answer but those the request named."""
    problems = []
    base = rule.call(world.a, caller.me)
    # Each field alone with B's object, then with the caller's own object in B (same user),
    # then all fields at once.
    cases = [([f], world.b) for f in fields]
    cases += [
        ([f], replace(world.b, **{f.kind: caller.own_in_b[f.kind]}))
        for f in fields
        if f.kind in caller.own_in_b
    ]
    cases += [(fields, world.b)] if len(fields) > 1 else []
    for chosen, foreign in cases:
        call = with_foreign(base, chosen, foreign)
        response = await send(caller.client, method, template, call)
        done.append(describe(caller, method, template, call, response))
        is_filter = all(
            (f.where == "query" and f.kind != "team") or f.name in rule.filters for f in chosen
        )
        answered = response.status_code in (403, 404) or (is_filter and response.status_code == 200)
        named = {*call.path.values(), *call.query.values(), *_strings(call.body)}
        leaked = [v for v in foreign_ids(world) if v not in named and v in response.text]
        if not answered or leaked:
            names = ", ".join(f"{f.where} {f.name}" for f in chosen)
            problems.append(f"team B's id in {names}: {done[-1]}")
    return problems


async def check_nested_ids(
    world: World, caller: Caller, method: str, template: str, rule: Rule, done: list[str]
) -> tuple[list[str], list[int]]:
    """Team B's id inside a value answers as an id naming nothing does (status and code); the
    problems and the statuses."""
    problems, statuses = [], []
    for label, nested in rule.nested.items():
        answers = []
        for value in (NOWHERE, getattr(world.b, nested.kind)):
            call = nested.build(world.a, caller.me, value)
            response = await send(caller.client, method, template, call)
            done.append(describe(caller, method, template, call, response))
            answers.append((response.status_code, error_code(response)))
            statuses.append(response.status_code)
        if answers[0] != answers[1]:
            problems.append(
                f"{label}: team B's id answers {answers[1]}, an unknown id {answers[0]}: "
                + done[-1]
            )
    return problems, statuses


def error_code(response: httpx.Response) -> str | None:
    if response.status_code < 400:
        return None
    body = response.json()
    return str(body.get("code")) if isinstance(body, dict) else None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


async def test_run_time_ids_resolve_in_the_run_team(world: World, tmp_path: Path) -> None:
    """What a configuration, `pipelineInput` or `agentInput` may name is looked up when the
    execution runs, in the execution's team: team B's file and dataset are not found there."""
    storage = world.app.state.storage
    host = DbAgentHost(
        world.database,
        storage,
        execution_id=world.a.agent_execution,
        team_id=world.a.team,
        runner_id="matrix",
        scratch=tmp_path,
        signals=RunSignals(),
        max_file_bytes=1 << 20,
    )
    assert await host.get_file(world.a.file) is not None
    assert await host.get_dataset(world.a.dataset) is not None
    assert await host.get_file(world.b.file) is None
    assert await host.get_dataset(world.b.dataset) is None
    pipeline_host = TeamRunHost(
        world.database,
        storage,
        execution_id=world.a.pipeline_execution,
        team_id=world.a.team,
        scratch=tmp_path,
        signals=RunSignals(),
    )
    assert await pipeline_host.get_file(world.b.file) is None
    assert await pipeline_host.get_dataset(world.b.dataset) is None
    known = {info.resource_id for info in await host.list_resources()}
    assert {world.a.file, world.a.dataset} <= known
    assert not known & set(foreign_ids(world))
    named = scope_ids(
        {"question": f"compare {world.b.file} with {world.b.dataset}"},
        [{"type": "ResourceSearchTool", "config": {"resource_ids": [world.b.dataset]}}],
        known,
    )
    assert named == []

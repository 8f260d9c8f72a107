"""The SDK against a server that offers only the published API (``api_extensions=False``: every
extension answers 404, /health lists none): a walk through users, teams, agents and their
versions and executions, files, datasets (a schema from a sample without the server's inference),
pipelines and audit logs. Every request the SDK sends is recorded at the transport and must be an
operation of the published API (docs/reference/templates/published-operations.txt) or a
transfer to a presigned storage URL the server handed out."""

import re
import uuid
from pathlib import Path
from typing import Any, Iterator, List, Optional, Pattern, Set, Tuple

import httpx
import pytest

from moderatelyai_sdk import (
    AgentExecution,
    AsyncModeratelyAI,
    AuditLog,
    ConflictError,
    NotFoundError,
    PipelineExecutionAsyncModel,
)

from ..configurations import ECHO

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]
PUBLISHED = ROOT / "docs" / "reference" / "templates" / "published-operations.txt"
STORAGE_PREFIX = "/_storage/"  # the local store's presigned URLs (platform api/storage.py)
FAST = {"poll_interval": 0.2, "timeout": 120.0}
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string"}},
    "required": ["answer"],
}
CSV = b"id,name,amount\n1,Ada,3.5\n2,Grace,4\n3,Hedy,-1.25\n"

Operation = Tuple[str, str]  # (METHOD, path) as sent


def published_operations() -> List[Tuple[str, Pattern[str], str]]:
    """(METHOD, path pattern, template) of every operation of the published API."""
    found = []
    for line in PUBLISHED.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            method, template = line.split()
            pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
            found.append((method.upper(), re.compile(pattern), template))
    return found


def published_template(method: str, path: str) -> Optional[str]:
    """The published operation a request is, or None."""
    for known, pattern, template in published_operations():
        if known == method and pattern.fullmatch(path):
            return template
    return None


class Recorder(httpx.AsyncBaseTransport):
    """A real HTTP transport that notes (METHOD, path) of every request it sends."""

    def __init__(self, seen: List[Operation]) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._seen = seen

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._seen.append((request.method, request.url.path))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class Recording:
    """``async with Recording(credentials) as client``: a client whose requests are noted in
    ``.seen``; ``.operations()`` names them by their published templates afterwards."""

    def __init__(self, credentials: Any) -> None:
        self.credentials = credentials
        self.seen: List[Operation] = []
        self._http = httpx.AsyncClient(transport=Recorder(self.seen), timeout=60.0)

    async def __aenter__(self) -> AsyncModeratelyAI:
        self.client = AsyncModeratelyAI(
            api_key=self.credentials.api_key,
            team_id=self.credentials.team_id,
            base_url=self.credentials.base_url,
            http_client=self._http,
        )
        return self.client

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.client.close()
        await self._http.aclose()

    def operations(self) -> Set[str]:
        """`METHOD template` of every API request; fails on any that is not published."""
        assert self.seen, "no request was recorded"
        named: Set[str] = set()
        strays = []
        for method, path in self.seen:
            if path.startswith(STORAGE_PREFIX) and method in ("PUT", "GET"):
                named.add(f"{method} <presigned>")
                continue
            template = published_template(method, path)
            if template is None:
                strays.append(f"{method} {path}")
            else:
                named.add(f"{method} {template}")
        assert not strays, f"requests beyond the published API: {strays}"
        return named


@pytest.fixture(scope="session")
def published_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The real server (SQLite, files on local disk) with its extensions turned off; its LLM
    providers are the loopback ones of platform/tests/llm_server.py."""
    testing = pytest.importorskip("moderately.testing", reason="platform package not installed")
    llm_server = pytest.importorskip("llm_server", reason="platform tests missing")
    if not PUBLISHED.is_file():
        pytest.skip("docs/reference/templates/published-operations.txt missing")
    providers = llm_server.llm_settings(llm_server.shared_llm_server())
    data_dir = tmp_path_factory.mktemp("published-only")
    with testing.run_server(data_dir=data_dir, api_extensions=False, **providers) as running:
        yield running


@pytest.fixture(scope="session")
def member(published_server: Any) -> Any:
    """A user of the published-only server: admin of a team of their own."""
    tag = uuid.uuid4().hex[:8]
    return published_server.create_user(f"published-{tag}@example.com", team_name=f"Pub {tag}")


def unique(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def test_the_server_offers_only_the_published_api(published_server: Any, member: Any) -> None:
    with httpx.Client(base_url=published_server.base_url, timeout=60.0) as http:
        health = http.get("/health").json()
        document = http.get("/openapi.json").json()
        # An extension answers as an unknown route does.
        answer = http.get(
            f"/users/{member.user_id}/teams",
            headers={"Authorization": f"Bearer {member.api_key}"},
        )
    assert health["status"] == "ok" and health["extensions"] == []
    served = {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    published = {f"{m} {t}" for m, _, t in published_operations()}
    assert served and served <= published
    assert answer.status_code == 404 and answer.json()["message"] == "no such endpoint"


async def test_users_and_teams(published_server: Any, member: Any) -> None:
    recording = Recording(member)
    async with recording as client:
        users = await client.users.list(page_size=100)
        assert member.user_id in [user.user_id for user in users.data]
        me = await client.users.retrieve(member.user_id)
        assert me.user_id == member.user_id and me.full_name
        renamed = await client.users.update(member.user_id, full_name="Published Person")
        assert renamed.full_name == "Published Person"
        assert (await client.users.retrieve(member.user_id)).full_name == "Published Person"

        teams = await client.teams.list()
        assert member.team_id in [team.team_id for team in teams.data]
        mine = await client.teams.retrieve(member.team_id)
        assert mine.team_id == member.team_id and mine.name.startswith("Pub ")
        changed = await client.teams.update(member.team_id, description="changed")
        assert (changed.team_id, changed.name, changed.description) == (
            member.team_id,
            mine.name,
            "changed",
        )
        assert (await client.teams.retrieve(member.team_id)).description == "changed"
        name = unique("second team")
        team = await client.teams.create(name=name, description="made through the SDK")
        assert (team.name, team.description) == (name, "made through the SDK")
    # Tokens act in their own team: the new team's admin needs one of its own.
    second = published_server.create_token(member.user_id, team_id=team.team_id)
    in_second = Recording(second)
    async with in_second as client:
        assert (await client.teams.retrieve(team.team_id)).name == name
        renamed = await client.teams.update(team.team_id, name=name + " renamed")
        assert renamed.name == name + " renamed"
    assert in_second.operations() >= {"GET /teams/{teamId}", "PATCH /teams/{teamId}"}
    assert recording.operations() >= {
        "GET /users",
        "GET /users/{userId}",
        "PATCH /users/{userId}",
        "GET /teams",
        "GET /teams/{teamId}",
        "POST /teams",
        "PATCH /teams/{teamId}",
    }


async def test_agents_versions_and_executions(member: Any) -> None:
    recording = Recording(member)
    async with recording as client:
        agent = await client.agents.create(name=unique("agent"), description="answers")
        assert agent.agent_id and agent.description == "answers"
        listed = await client.agents.list(page_size=100)
        assert agent.agent_id in [a.agent_id for a in listed.data]
        assert (await client.agents.retrieve(agent.agent_id)).name == agent.name
        updated = await client.agents.update(agent.agent_id, description="answers briefly")
        assert updated.description == "answers briefly"
        with pytest.raises(ConflictError):
            await client.agents.create(name=agent.name)

        # Every agent starts with a current version 1.
        (initial,) = await client.agent_configuration_versions.list(agent_ids=[agent.agent_id])
        assert (initial.version_number, initial.is_current) == (1, True)
        first = await client.agent_configuration_versions.create(
            agent_id=agent.agent_id,
            instructions="Answer in one sentence.",
            output_schema=ANSWER_SCHEMA,
            execution_config={"max_actions": 2, "planning_interval": 1},
        )
        assert (first.version_number, first.is_current) == (2, True)
        second = await client.agent_configuration_versions.create(
            agent_id=agent.agent_id,
            instructions="Answer in one word.",
            output_schema=ANSWER_SCHEMA,
            execution_config={"max_actions": 2, "planning_interval": 1},
        )
        assert (second.version_number, second.is_current) == (3, True)
        versions = await client.agent_configuration_versions.list(agent_ids=[agent.agent_id])
        assert sorted(v.version_number for v in versions) == [1, 2, 3]
        demoted = await client.agent_configuration_versions.retrieve(
            first.agent_configuration_version_id
        )
        assert demoted.is_current is False
        back = await client.agent_configuration_versions.update(
            first.agent_configuration_version_id, is_current=True
        )
        assert (back.version_number, back.is_current) == (2, True)

        question = {"question": "Is this the published API?"}
        started = await client.agent_executions.create(agent_id=agent.agent_id, input_data=question)
        assert isinstance(started, AgentExecution)
        assert started.agent_configuration_version_id == first.agent_configuration_version_id
        assert (started.agent_id, started.agent_input) == (agent.agent_id, question)
        page = await client.agent_executions.list(agent_id=agent.agent_id)
        assert [e.execution_id for e in page.data] == [started.execution_id]
        again = await client.agent_executions.retrieve(started.execution_id)
        assert again.execution_id == started.execution_id
        done = await client.agent_executions.wait_for_success(started.execution_id, **FAST)
        assert done.status == "completed" and isinstance(done.agent_output, dict)
        assert isinstance(done.agent_output["answer"], str)

        await client.agents.delete(agent.agent_id)
        with pytest.raises(NotFoundError):
            await client.agents.retrieve(agent.agent_id)
    assert recording.operations() >= {
        "POST /agents",
        "GET /agents",
        "GET /agents/{agentId}",
        "PATCH /agents/{agentId}",
        "DELETE /agents/{agentId}",
        "POST /agent-configuration-versions",
        "GET /agent-configuration-versions",
        "GET /agent-configuration-versions/{agentConfigurationVersionId}",
        "PATCH /agent-configuration-versions/{agentConfigurationVersionId}",
        "POST /agent-executions",
        "GET /agent-executions",
        "GET /agent-executions/{agentExecutionId}",
    }


async def test_files(member: Any, tmp_path: Path) -> None:
    content = b"published bytes\n" * 64
    recording = Recording(member)
    async with recording as client:
        uploaded = await client.files.upload(content, name="notes.txt", metadata={"k": "v"})
        assert (uploaded.name, uploaded.status, uploaded.file_size) == (
            "notes.txt",
            "completed",
            len(content),
        )
        listed = await client.files.list(page_size=100)
        assert uploaded.file_id in [f.file_id for f in listed.data]
        retrieved = await client.files.retrieve(uploaded.file_id)
        assert (retrieved.name, retrieved.metadata) == ("notes.txt", {"k": "v"})
        assert await client.files.download(uploaded.file_id) == content
        target = tmp_path / "copy.txt"
        assert await retrieved.download(path=target) is None
        assert target.read_bytes() == content
        await client.files.delete(uploaded.file_id)
        with pytest.raises(NotFoundError):
            await client.files.retrieve(uploaded.file_id)
    assert recording.operations() >= {
        "POST /files/upload-url",
        "PUT <presigned>",
        "POST /files/{fileId}/complete",
        "GET /files",
        "GET /files/{fileId}",
        "GET /files/{fileId}/download",
        "GET <presigned>",
        "DELETE /files/{fileId}",
    }


async def test_datasets_with_a_schema_from_a_sample(member: Any) -> None:
    recording = Recording(member)
    async with recording as client:
        dataset = await client.datasets.create(name=unique("dataset"), description="published")
        assert dataset.dataset_id and dataset.description == "published"
        version = await dataset.upload_data(CSV, file_type="csv")
        assert version.dataset_data_version_id and version.status in ("current", "draft")
        assert await dataset.download_data() == CSV

        # No server inference to ask: the SDK reads the sample itself.
        schema = await dataset.create_schema_from_sample(CSV, status="current")
        assert [(c.name, c.type) for c in schema.columns] == [
            ("id", "integer"),
            ("name", "string"),
            ("amount", "float"),
        ]
        assert schema.status == "current"
        assert dataset.current_schema_version_id == schema.dataset_schema_version_id
        listed = await dataset.list_schema_versions()
        assert [s.dataset_schema_version_id for s in listed] == [schema.dataset_schema_version_id]

        # The server processes the data with the schema the client inferred.
        assert (await dataset.process(**FAST)) is dataset
        assert dataset.processing_status == "completed" and dataset.record_count == 3
        assert dataset.active_data_schema_version_id == schema.dataset_schema_version_id
        # The sample never went up as a file.
        assert (await client.files.list(page_size=100))["items"] == []
    operations = recording.operations()
    assert "GET /health" in operations  # the SDK asked what the server offers
    assert "POST /files/upload-url" not in operations
    assert operations >= {
        "POST /datasets",
        "POST /dataset-data-versions",
        "POST /dataset-data-versions/{dataVersionId}/complete",
        "POST /dataset-schema-versions",
        "GET /dataset-schema-versions",
        "PATCH /datasets/{datasetId}",
        "GET /datasets/{datasetId}",
    }


async def test_pipelines(member: Any) -> None:
    recording = Recording(member)
    async with recording as client:
        pipeline = await client.pipelines.create(name=unique("echo"), description="echo demo")
        assert pipeline.pipeline_id and pipeline.total_runs == 0
        version = await pipeline.create_configuration_version(configuration=ECHO, status="draft")
        assert (version.version, version.status) == (1, "draft")
        report = await version.validate()
        assert (report["valid"], report["errors"]) == (True, [])
        execution = await version.execute(
            pipeline_input={"user_input": "hello"}, block=True, **FAST
        )
        assert isinstance(execution, PipelineExecutionAsyncModel)
        assert execution.is_completed and execution.pipeline_output == {"echoed_message": "hello"}
        assert await execution.get_output() == {"echoed_message": "hello"}
        page = await client.pipeline_executions.list(pipeline_ids=[pipeline.pipeline_id])
        assert [e.execution_id for e in page.data] == [execution.execution_id]
        same = await client.pipeline_executions.retrieve(execution.execution_id)
        assert same.status == "completed"
        versions = await pipeline.list_configuration_versions()
        assert [v.configuration_version_id for v in versions] == [version.configuration_version_id]
        renamed = await client.pipelines.update(pipeline.pipeline_id, description="changed")
        assert renamed.description == "changed"
        assert (await client.pipelines.retrieve(pipeline.pipeline_id)).description == "changed"
        await pipeline.delete()
        with pytest.raises(NotFoundError):
            await client.pipelines.retrieve(pipeline.pipeline_id)
    assert recording.operations() >= {
        "POST /pipelines",
        "POST /pipeline-configuration-versions",
        "POST /pipeline-configuration-versions/validate",
        "POST /pipeline-executions",
        "GET /pipeline-executions/{pipelineExecutionId}",
        "GET /pipeline-executions",
        "GET /pipeline-configuration-versions",
        "PATCH /pipelines/{pipelineId}",
        "GET /pipelines/{pipelineId}",
        "DELETE /pipelines/{pipelineId}",
    }


async def test_audit_logs(member: Any) -> None:
    recording = Recording(member)
    async with recording as client:
        agent = await client.agents.create(name=unique("audited"))
        await client.agents.update(agent.agent_id, description="second thoughts")
        page = await client.audit_logs.list(resource_id=agent.agent_id, order_by="event_type")
        assert [e.event_type for e in page["items"]] == ["agent.created", "agent.updated"]
        entry = page["items"][1]
        assert isinstance(entry, AuditLog) and entry.user_id == member.user_id
        same = await client.audit_logs.retrieve(entry.audit_log_id)
        assert same.to_dict() == entry.to_dict()
        history = await client.audit_logs.list_for_entity("agent", agent.agent_id)
        assert {e.audit_log_id for e in history["items"]} == {e.audit_log_id for e in page["items"]}
        mine = await client.audit_logs.list_for_user(member.user_id, resource_type="agent")
        assert agent.agent_id in [e.resource_id for e in mine["items"]]
    assert recording.operations() >= {
        "GET /audit-logs",
        "GET /audit-logs/{auditLogId}",
        "GET /audit-logs/entity/{entityType}/{entityId}",
        "GET /audit-logs/user/{userId}",
    }


async def test_without_the_extensions_the_sdk_does_what_the_reference_says(member: Any) -> None:
    """docs/reference/api.md, Extensions: what each SDK method does on a server without the
    extension it needs (these calls do reach extension paths, so no recording here)."""
    async with AsyncModeratelyAI(
        api_key=member.api_key, team_id=member.team_id, base_url=member.base_url
    ) as client:
        uploaded = await client.files.upload(b"kept as it is", name="kept.txt")
        with pytest.raises(NotFoundError, match=r"does not offer PATCH /files/.*'file-update'"):
            await client.files.update(uploaded.file_id, name="renamed.txt")
        assert (await client.files.retrieve(uploaded.file_id)).name == "kept.txt"
        with pytest.raises(NotFoundError, match="'dataset-schema-inference' extension"):
            await client.datasets.schema_versions.infer(file_id=uploaded.file_id)
        await client.files.delete(uploaded.file_id)

        me = await client.users.retrieve(member.user_id)
        # user-teams: read from the memberships and the teams instead.
        assert [team.team_id for team in await me.get_teams()] == [member.team_id]

        with pytest.raises(NotFoundError, match=r"does not offer DELETE /teams.*'team-delete'"):
            await client.teams.delete(member.team_id)
        assert (await client.teams.retrieve(member.team_id)).team_id == member.team_id

        agent = await client.agents.create(name=unique("uncontrolled"))
        started = await client.agent_executions.create(agent_id=agent.agent_id)
        control = "'agent-execution-control' extension"
        with pytest.raises(NotFoundError, match=f"does not offer POST .*/cancel.*{control}"):
            await client.agent_executions.cancel(started.execution_id)
        with pytest.raises(NotFoundError, match=f"does not offer DELETE .*{control}"):
            await client.agent_executions.delete(started.execution_id)
        assert (await client.agent_executions.retrieve(started.execution_id)).agent_id == (
            agent.agent_id
        )
        await client.agent_executions.wait_for_completion(started.execution_id, **FAST)

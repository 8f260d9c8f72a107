"""Who may call each operation of the API, and a request for it: the table that
test_authorization_matrix.py checks against the app's own OpenAPI document.

Every operation (`"METHOD /path"`, as the document spells it) has a `Rule`: the least role that
may call it (readonly < member < admin, the lower of the token's role and the user's role in the
token's team), or `PUBLIC` (no token at all) or `SIGNED` (the URL is the credential); and how to
build a request for it on the caller's own team's objects. The id-bearing fields of a request
are found in the OpenAPI document, not here; `ID_KINDS` says which object each one names. Ids
inside values (a pipeline's configuration, `pipelineInput`, `agentInput`, tool configs) are
listed per rule in `nested`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from agents_helpers import version_body

Access = Literal["public", "signed", "readonly", "member", "admin"]
PUBLIC: Access = "public"
SIGNED: Access = "signed"
READONLY: Access = "readonly"
MEMBER: Access = "member"
ADMIN: Access = "admin"
ROLE_RANK: dict[str, int] = {READONLY: 0, MEMBER: 1, ADMIN: 2}

_names = itertools.count()


def unique(prefix: str) -> str:
    """A name no other request of the run uses (names are unique per team: 409 otherwise)."""
    return f"{prefix}-{next(_names)}"


@dataclass(frozen=True)
class Objects:
    """The ids of one team's fixture objects (`user` and `team_user` are of a user who belongs
    to this team only; `audit_log` is None when the team's log is empty)."""

    team: str
    user: str
    team_user: str
    token: str
    agent: str
    agent_version: str
    agent_execution: str
    file: str
    dataset: str
    data_version: str
    schema_version: str
    pipeline: str
    pipeline_version: str
    pipeline_execution: str
    audit_log: str | None


@dataclass(frozen=True)
class Me:
    """The caller: its user, the token's team and its own membership of that team."""

    user_id: str
    team_id: str
    team_user_id: str


@dataclass(frozen=True)
class Call:
    """One request: path parameters, query and JSON body; `alternatives` are the other body forms
    the operation accepts (a foreign id of a field is tried in the form that has the field)."""

    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    alternatives: tuple[Mapping[str, Any], ...] = ()


Builder = Callable[[Objects, Me], Call]
# An id inside a value: the kind of object it names (an `Objects` field) and the request with
# `id` at that place.
NestedBuilder = Callable[[Objects, Me, str], Call]


@dataclass(frozen=True)
class Nested:
    kind: str
    build: NestedBuilder


@dataclass(frozen=True)
class Rule:
    access: Access
    call: Builder = field(default=lambda o, me: Call())
    # The own-team request gets a new object of this kind each time (an `Objects` field, or
    # "team": a new team the caller belongs to as it does to its own), because it deletes or
    # changes it for good.
    fresh: str | None = None
    nested: Mapping[str, Nested] = field(default_factory=dict)
    # Path parameters that filter a list rather than name the object read (a foreign id
    # answers an empty page, as list filters do).
    filters: frozenset[str] = frozenset()
    # The same operation with another body whose access differs.
    variants: tuple[Rule, ...] = ()
    why: str = ""


# ---- which object an id-bearing field names ----

# By the field's snake-case name without a trailing s (`agentIds` -> agent_id).
ID_KINDS: dict[str, str] = {
    "team_id": "team",
    "user_id": "user",
    "team_user_id": "team_user",
    "token_id": "token",
    "api_token_id": "token",
    "agent_id": "agent",
    "agent_configuration_version_id": "agent_version",
    "agent_execution_id": "agent_execution",
    "file_id": "file",
    "dataset_id": "dataset",
    "dataset_data_version_id": "data_version",
    "data_version_id": "data_version",
    "dataset_schema_version_id": "schema_version",
    "pipeline_id": "pipeline",
    "pipeline_configuration_version_id": "pipeline_version",
    "pipeline_execution_id": "pipeline_execution",
    "audit_log_id": "audit_log",
    # The audit log's resource filters: any object's id (an agent's here).
    "resource_id": "agent",
    "entity_id": "agent",
}
_ID_FIELD = re.compile(r"(Id|Ids|_id|_ids)$")


def is_id_field(name: str) -> bool:
    return bool(_ID_FIELD.search(name))


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def kind_of(name: str) -> str | None:
    """The `Objects` field an id-bearing parameter or body field names, or None if unknown."""
    key = snake(name)
    return ID_KINDS.get(key.removesuffix("s") if key.endswith("_ids") else key)


# ---- request bodies ----


def agent_version_body(agent_id: str, resource_id: str | None = None) -> dict[str, Any]:
    """A complete configuration version; `resource_id` is put in a tool's `resource_ids`."""
    tool: dict[str, Any] = {"type": "ResourceSearchTool"}
    if resource_id is not None:
        tool["config"] = {"resource_ids": [resource_id]}
    # Unique per agent (409): high numbers, away from the fixtures' 1 and 2.
    return version_body(agent_id, 1000 + next(_names), toolConfig=[tool])


def pipeline_configuration(
    o: Objects, *, dataset: str | None = None, file: str | None = None, named: str | None = None
) -> dict[str, Any]:
    """Inputs `message`, `doc` (format file) and `table` (format dataset), and the three block
    config fields that hold ids: a dataset block's `dataset_id`, a file block's `file_id` and a
    join's `dataset_names`; each id is the team's unless given."""
    blocks: dict[str, tuple[str, dict[str, Any]]] = {
        "message": ("input", {"json_schema": {"type": "string"}}),
        "doc": ("input", {"json_schema": {"type": "string", "format": "file"}}),
        "table": ("input", {"json_schema": {"type": "string", "format": "dataset"}}),
        "rows": ("dataset", {"dataset_id": dataset or o.dataset}),
        "source": ("file", {"file_id": file or o.file}),
        "merged": (
            "join",
            {
                "base_dataset": "left",
                "joins": [{"dataset": "right", "left_key": "a", "right_key": "a"}],
                "output_columns": [{"name": "a", "source": "left.a", "type": "string"}],
                "dataset_names": {"left": named or o.dataset, "right": o.dataset},
            },
        ),
        "echoed": ("output", {"name": "echoed"}),
        "read": ("output", {"name": "read"}),
        "joined": ("output", {"name": "joined"}),
        "loaded": ("output", {"name": "loaded"}),
        "documents": ("output", {"name": "documents"}),
        "tables": ("output", {"name": "tables"}),
    }
    edges = [
        ("message", "data", "echoed", "data"),
        ("source", "text", "read", "data"),
        ("merged", "data", "joined", "data"),
        ("rows", "data", "loaded", "data"),
        ("doc", "data", "documents", "data"),
        ("table", "data", "tables", "data"),
    ]
    return {
        "id": "matrix",
        "name": "authorization matrix",
        "blocks": {
            key: {"id": key, "type": kind, "config": config}
            for key, (kind, config) in blocks.items()
        },
        "connections": [
            {"source_block_id": s, "source_port": sp, "target_block_id": t, "target_port": tp}
            for s, sp, t, tp in edges
        ],
    }


def _configuration_ids(make: Callable[[Objects, dict[str, Any]], Call]) -> dict[str, Nested]:
    """The ids a pipeline configuration holds, each in a request built by `make`."""
    return {
        "configuration: dataset block's dataset_id": Nested(
            "dataset", lambda o, me, id: make(o, pipeline_configuration(o, dataset=id))
        ),
        "configuration: file block's file_id": Nested(
            "file", lambda o, me, id: make(o, pipeline_configuration(o, file=id))
        ),
        "configuration: join's dataset_names": Nested(
            "dataset", lambda o, me, id: make(o, pipeline_configuration(o, named=id))
        ),
    }


def run_pipeline(o: Objects, *, doc: str | None = None, table: str | None = None) -> Call:
    return Call(
        body={
            "pipelineConfigurationVersionId": o.pipeline_version,
            "pipelineInput": {"message": "hi", "doc": doc or o.file, "table": table or o.dataset},
            "pipelineInputSummary": "matrix",
        }
    )


def run_agent(o: Objects, question: str = "What is it?") -> Call:
    return Call(
        body={"agentConfigurationVersionId": o.agent_version, "agentInput": {"question": question}},
        alternatives=(
            {"agentId": o.agent, "agentInput": {"question": question}},
            {"agent_id": o.agent, "input_data": {"question": question}},
        ),
    )


def _path(**params: str) -> Builder:
    return lambda o, me: Call(path={k: getattr(o, v) for k, v in params.items()})


def _create(prefix: str) -> Builder:
    return lambda o, me: Call(body={"name": unique(prefix)})


# ---- the table ----

TABLE: dict[str, Rule] = {
    "GET /health": Rule(PUBLIC, why="liveness: no token, no database"),
    "GET /authentication/whoami": Rule(READONLY),
    # API tokens: reading them is for any member; making, changing and deleting them for admins.
    "POST /api-tokens": Rule(
        ADMIN, lambda o, me: Call(body={"name": unique("token"), "role": "readonly"})
    ),
    "GET /api-tokens": Rule(READONLY),
    "GET /api-tokens/{tokenId}": Rule(READONLY, _path(tokenId="token")),
    "PATCH /api-tokens/{tokenId}": Rule(
        ADMIN, lambda o, me: Call(path={"tokenId": o.token}, body={"name": "renamed token"})
    ),
    "DELETE /api-tokens/{tokenId}": Rule(ADMIN, _path(tokenId="token"), fresh="token"),
    "GET /api-tokens/{tokenId}/usage": Rule(READONLY, _path(tokenId="token")),
    # Users: a member changes its own profile only.
    "GET /users": Rule(READONLY),
    "GET /users/{userId}": Rule(READONLY, _path(userId="user")),
    "PATCH /users/{userId}": Rule(
        MEMBER,
        lambda o, me: Call(path={"userId": me.user_id}, body={"nickname": "nick"}),
        why="one's own profile",
    ),
    "GET /users/{userId}/teams": Rule(READONLY, _path(userId="user")),
    # Teams: a new team is a write of the caller's (who becomes its admin); changing or deleting
    # one is for its admins.
    "GET /teams": Rule(READONLY),
    "POST /teams": Rule(MEMBER, _create("team")),
    "GET /teams/{teamId}": Rule(READONLY, lambda o, me: Call(path={"teamId": me.team_id})),
    "PATCH /teams/{teamId}": Rule(
        ADMIN, lambda o, me: Call(path={"teamId": me.team_id}, body={"description": "described"})
    ),
    "DELETE /teams/{teamId}": Rule(
        ADMIN, lambda o, me: Call(path={"teamId": me.team_id}), fresh="team"
    ),
    # Memberships: admins change roles and remove members; a member sets its own default team.
    "GET /team-users": Rule(READONLY),
    "GET /team-users/{teamUserId}": Rule(READONLY, _path(teamUserId="team_user")),
    "PATCH /team-users/{teamUserId}": Rule(
        ADMIN,
        lambda o, me: Call(path={"teamUserId": o.team_user}, body={"role": "admin"}),
        fresh="team_user",
        variants=(
            Rule(
                MEMBER,
                lambda o, me: Call(path={"teamUserId": me.team_user_id}, body={"isDefault": True}),
                why="one's own default team",
            ),
        ),
    ),
    "DELETE /team-users/{teamUserId}": Rule(
        ADMIN, _path(teamUserId="team_user"), fresh="team_user"
    ),
    # Agents.
    "GET /agents": Rule(READONLY),
    "POST /agents": Rule(MEMBER, _create("agent")),
    "GET /agents/{agentId}": Rule(READONLY, _path(agentId="agent")),
    "PATCH /agents/{agentId}": Rule(
        MEMBER, lambda o, me: Call(path={"agentId": o.agent}, body={"description": "described"})
    ),
    "DELETE /agents/{agentId}": Rule(MEMBER, _path(agentId="agent"), fresh="agent"),
    "POST /agent-configuration-versions": Rule(
        MEMBER,
        lambda o, me: Call(body=agent_version_body(o.agent)),
        nested={
            f"toolConfig: resource_ids ({kind})": Nested(
                kind, lambda o, me, id: Call(body=agent_version_body(o.agent, id))
            )
            for kind in ("file", "dataset")
        },
    ),
    "GET /agent-configuration-versions": Rule(READONLY),
    "GET /agent-configuration-versions/{agentConfigurationVersionId}": Rule(
        READONLY, _path(agentConfigurationVersionId="agent_version")
    ),
    "PATCH /agent-configuration-versions/{agentConfigurationVersionId}": Rule(
        MEMBER,
        lambda o, me: Call(
            path={"agentConfigurationVersionId": o.agent_version},
            body={"instructions": "Answer in two words."},
        ),
        nested={
            f"toolConfig: resource_ids ({kind})": Nested(
                kind,
                lambda o, me, id: Call(
                    path={"agentConfigurationVersionId": o.agent_version},
                    body={
                        "toolConfig": [
                            {"type": "ResourceSearchTool", "config": {"resource_ids": [id]}}
                        ]
                    },
                ),
            )
            for kind in ("file", "dataset")
        },
    ),
    "POST /agent-executions": Rule(
        MEMBER,
        lambda o, me: run_agent(o),
        nested={
            f"agentInput: a {kind} id": Nested(kind, lambda o, me, id: run_agent(o, id))
            for kind in ("file", "dataset")
        },
    ),
    "GET /agent-executions": Rule(READONLY),
    "GET /agent-executions/{agentExecutionId}": Rule(
        READONLY, _path(agentExecutionId="agent_execution")
    ),
    "PATCH /agent-executions/{agentExecutionId}": Rule(
        MEMBER,
        lambda o, me: Call(
            path={"agentExecutionId": o.agent_execution}, body={"status": "cancelled"}
        ),
        fresh="agent_execution",
    ),
    "DELETE /agent-executions/{agentExecutionId}": Rule(
        MEMBER, _path(agentExecutionId="agent_execution"), fresh="agent_execution"
    ),
    "POST /agent-executions/{agentExecutionId}/cancel": Rule(
        MEMBER,
        lambda o, me: Call(path={"agentExecutionId": o.agent_execution}, body={"reason": "stop"}),
        fresh="agent_execution",
    ),
    "PATCH /agent-executions/{agentExecutionId}/cancel": Rule(
        MEMBER,
        lambda o, me: Call(path={"agentExecutionId": o.agent_execution}, body={}),
        fresh="agent_execution",
    ),
    "GET /agent-executions/{agentExecutionId}/memory-states": Rule(
        READONLY, _path(agentExecutionId="agent_execution")
    ),
    "GET /agent-executions/{agentExecutionId}/memory-states/{version}": Rule(
        READONLY,
        lambda o, me: Call(path={"agentExecutionId": o.agent_execution, "version": "1"}),
    ),
    "GET /agent-executions/{agentExecutionId}/live-tail": Rule(
        READONLY, _path(agentExecutionId="agent_execution")
    ),
    # Files.
    "GET /files": Rule(READONLY),
    "POST /files/upload-url": Rule(
        MEMBER, lambda o, me: Call(body={"fileName": unique("upload") + ".txt", "fileSize": 3})
    ),
    "GET /files/{fileId}": Rule(READONLY, _path(fileId="file")),
    "PATCH /files/{fileId}": Rule(
        MEMBER, lambda o, me: Call(path={"fileId": o.file}, body={"fileName": "renamed.txt"})
    ),
    "DELETE /files/{fileId}": Rule(MEMBER, _path(fileId="file"), fresh="file"),
    "POST /files/{fileId}/complete": Rule(
        MEMBER,
        lambda o, me: Call(path={"fileId": o.file}, body={"fileSize": 3, "fileHash": "0" * 64}),
    ),
    "GET /files/{fileId}/download": Rule(READONLY, _path(fileId="file")),
    # Datasets and their versions.
    "GET /datasets": Rule(READONLY),
    "POST /datasets": Rule(MEMBER, _create("dataset")),
    "GET /datasets/{datasetId}": Rule(READONLY, _path(datasetId="dataset")),
    "PATCH /datasets/{datasetId}": Rule(
        MEMBER,
        lambda o, me: Call(path={"datasetId": o.dataset}, body={"description": "described"}),
    ),
    "DELETE /datasets/{datasetId}": Rule(MEMBER, _path(datasetId="dataset"), fresh="dataset"),
    "POST /dataset-data-versions": Rule(
        MEMBER,
        lambda o, me: Call(
            body={"datasetId": o.dataset, "fileName": "more.csv", "fileType": "csv"}
        ),
    ),
    "GET /dataset-data-versions": Rule(READONLY),
    "GET /dataset-data-versions/{datasetDataVersionId}": Rule(
        READONLY, _path(datasetDataVersionId="data_version")
    ),
    "POST /dataset-data-versions/{dataVersionId}/complete": Rule(
        MEMBER, lambda o, me: Call(path={"dataVersionId": o.data_version}, body={})
    ),
    "GET /dataset-data-versions/{dataVersionId}/download": Rule(
        READONLY, _path(dataVersionId="data_version")
    ),
    "POST /dataset-schema-versions/infer": Rule(
        READONLY,
        lambda o, me: Call(
            body={"fileId": o.file}, alternatives=({"datasetDataVersionId": o.data_version},)
        ),
        why="reads a file and stores nothing (its job's answer only)",
    ),
    "POST /dataset-schema-versions": Rule(
        MEMBER,
        lambda o, me: Call(
            body={"datasetId": o.dataset, "columns": [{"name": "a", "type": "int"}]}
        ),
    ),
    "GET /dataset-schema-versions": Rule(READONLY),
    "GET /dataset-schema-versions/{datasetSchemaVersionId}": Rule(
        READONLY, _path(datasetSchemaVersionId="schema_version")
    ),
    "PATCH /dataset-schema-versions/{datasetSchemaVersionId}": Rule(
        MEMBER,
        lambda o, me: Call(
            path={"datasetSchemaVersionId": o.schema_version}, body={"status": "current"}
        ),
    ),
    # Pipelines, their configuration versions and executions.
    "GET /pipelines": Rule(READONLY),
    "POST /pipelines": Rule(MEMBER, _create("pipeline")),
    "GET /pipelines/{pipelineId}": Rule(READONLY, _path(pipelineId="pipeline")),
    "PATCH /pipelines/{pipelineId}": Rule(
        MEMBER,
        lambda o, me: Call(path={"pipelineId": o.pipeline}, body={"description": "described"}),
    ),
    "DELETE /pipelines/{pipelineId}": Rule(MEMBER, _path(pipelineId="pipeline"), fresh="pipeline"),
    "POST /pipeline-configuration-versions/validate": Rule(
        READONLY,
        lambda o, me: Call(body={"configuration": pipeline_configuration(o)}),
        nested=_configuration_ids(lambda o, c: Call(body={"configuration": c})),
        why="checks a document and stores nothing",
    ),
    "GET /pipeline-configuration-versions/schema": Rule(READONLY),
    "GET /pipeline-configuration-versions": Rule(READONLY),
    "POST /pipeline-configuration-versions": Rule(
        MEMBER,
        lambda o, me: Call(
            body={"pipelineId": o.pipeline, "configuration": pipeline_configuration(o)}
        ),
        nested=_configuration_ids(
            lambda o, c: Call(body={"pipelineId": o.pipeline, "configuration": c})
        ),
    ),
    "GET /pipeline-configuration-versions/{pipelineConfigurationVersionId}": Rule(
        READONLY, _path(pipelineConfigurationVersionId="pipeline_version")
    ),
    "PATCH /pipeline-configuration-versions/{pipelineConfigurationVersionId}": Rule(
        MEMBER,
        lambda o, me: Call(
            path={"pipelineConfigurationVersionId": o.pipeline_version},
            body={"configuration": pipeline_configuration(o)},
        ),
        nested=_configuration_ids(
            lambda o, c: Call(
                path={"pipelineConfigurationVersionId": o.pipeline_version},
                body={"configuration": c},
            )
        ),
    ),
    "DELETE /pipeline-configuration-versions/{pipelineConfigurationVersionId}": Rule(
        MEMBER, _path(pipelineConfigurationVersionId="pipeline_version"), fresh="pipeline_version"
    ),
    "POST /pipeline-configuration-versions/{pipelineConfigurationVersionId}/clone": Rule(
        MEMBER, _path(pipelineConfigurationVersionId="pipeline_version")
    ),
    "POST /pipeline-executions": Rule(
        MEMBER,
        lambda o, me: run_pipeline(o),
        nested={
            "pipelineInput: a format-file input": Nested(
                "file", lambda o, me, id: run_pipeline(o, doc=id)
            ),
            "pipelineInput: a format-dataset input": Nested(
                "dataset", lambda o, me, id: run_pipeline(o, table=id)
            ),
        },
    ),
    "GET /pipeline-executions": Rule(READONLY),
    "GET /pipeline-executions/{pipelineExecutionId}": Rule(
        READONLY, _path(pipelineExecutionId="pipeline_execution")
    ),
    "PATCH /pipeline-executions/{pipelineExecutionId}": Rule(
        MEMBER,
        lambda o, me: Call(
            path={"pipelineExecutionId": o.pipeline_execution}, body={"status": "running"}
        ),
        fresh="pipeline_execution",
    ),
    "POST /pipeline-executions/{pipelineExecutionId}/cancel": Rule(
        MEMBER,
        lambda o, me: Call(
            path={"pipelineExecutionId": o.pipeline_execution}, body={"reason": "stop"}
        ),
        fresh="pipeline_execution",
    ),
    "GET /pipeline-executions/{pipelineExecutionId}/output": Rule(
        READONLY, _path(pipelineExecutionId="pipeline_execution")
    ),
    # The audit log: its team's admins only.
    "GET /audit-logs": Rule(ADMIN),
    "GET /audit-logs/{auditLogId}": Rule(ADMIN, _path(auditLogId="audit_log")),
    "GET /audit-logs/entity/{entityType}/{entityId}": Rule(
        ADMIN,
        lambda o, me: Call(path={"entityType": "agent", "entityId": o.agent}),
        filters=frozenset({"entityId"}),
    ),
    "GET /audit-logs/user/{userId}": Rule(
        ADMIN, _path(userId="user"), filters=frozenset({"userId"})
    ),
    # The local store's presigned URLs (not in the OpenAPI document: the API hands them out).
    "* /_storage/upload/{token}": Rule(SIGNED, why="the URL's HMAC is the credential"),
    "* /_storage/download/{token}": Rule(SIGNED, why="the URL's HMAC is the credential"),
}

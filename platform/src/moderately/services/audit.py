"""The audit log: who created, changed, deleted or ran what, written in the transaction that did it.

Nothing calls this per operation. Two session listeners, installed once per process
(`install`, from `Database`), see every write:

* `before_flush` reads the unit of work: new, changed and deleted rows of the audited models;
* `do_orm_execute` reads bulk `update()` / `delete()` statements on those models (status moves
  of executions in services/lifecycle.py, the cascading deletes of teams, pipelines, datasets,
  versions and executions, upload completions, promotions): it selects the rows the statement
  will touch (locked, so the statement touches exactly those) and their old values first.

An entry names the actor (the request's user and API token from `session.info["principal"]`,
and its request id, address and user agent from `session.info["request"]`; a session without a
principal is a worker's or the operator's, recorded as `{"additionalInfo": {"actor": "system"}}`),
the team (the row's `team_id`; a team's own id; for a user, the caller's team), the resource,
the action and, for updates, the names of the changed fields, never their values:
`changes = {"fields": ["name", "isActive"]}` (column names in camelCase).

Event types: `<resource>.created` / `.updated` / `.deleted` (actions create, update, delete);
an execution's status move is `<resource>.<new status>` (`pipeline_execution.completed`,
`agent_execution.cancelled`, ...) and a dataset's processing move
`dataset.processing_<status>` (action execute); only status moves of executions are recorded,
so progress writes never flood the log. A request whose token passed an admin check writes one
`api_token.used` entry (action execute) with its first write.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, inspect, null, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import BindParameter, ClauseElement

from moderately.db.models import (
    Agent,
    AgentConfigurationVersion,
    AgentExecution,
    ApiToken,
    AuditLog,
    Dataset,
    DatasetDataVersion,
    DatasetSchemaVersion,
    File,
    Pipeline,
    PipelineConfigurationVersion,
    PipelineExecution,
    Team,
    TeamUser,
    User,
)
from moderately.ids import new_id

__all__ = ["ACTIONS", "AUDITED", "RESOURCE_TYPES", "install", "record"]

ACTIONS = ("create", "read", "update", "delete", "execute", "export", "import")
CREATE, UPDATE, DELETE, EXECUTE = "create", "update", "delete", "execute"
TOKEN_USED = "api_token.used"
_PAST = {CREATE: "created", UPDATE: "updated", DELETE: "deleted", EXECUTE: "executed"}
# Columns no entry ever names: timestamps the database keeps.
_BOOKKEEPING = frozenset({"created_at", "updated_at"})
# session.info key: this transaction has written its `api_token.used` entry.
_TOKEN_USE_WRITTEN = "audit_token_use_written"


@dataclass(frozen=True)
class Audited:
    """How rows of one model are audited."""

    resource_type: str
    key: str  # the id column
    # A status column whose moves are `execute` entries named by the new status.
    status: str | None = None
    status_event: str = "{}"  # the event suffix for a move to status {}
    # Executions: nothing but status moves is recorded (their progress writes are not).
    only_status: bool = False
    # Columns written as bookkeeping, never recorded as changes.
    ignored: frozenset[str] = frozenset()


_PROCESSING_BOOKKEEPING = frozenset(
    {
        "processing_job_id",
        "processing_error",
        "processing_report",
        "record_count",
        "total_size_bytes",
        "active_data_version_id",
        "active_data_schema_version_id",
    }
)

AUDITED: dict[type[Any], Audited] = {
    Team: Audited("team", "team_id"),
    User: Audited("user", "user_id"),
    TeamUser: Audited("team_user", "team_user_id"),
    ApiToken: Audited("api_token", "token_id", ignored=frozenset({"last_used_at"})),
    Agent: Audited("agent", "agent_id"),
    AgentConfigurationVersion: Audited(
        "agent_configuration_version", "agent_configuration_version_id"
    ),
    AgentExecution: Audited("agent_execution", "agent_execution_id", "status", only_status=True),
    File: Audited("file", "file_id", ignored=frozenset({"upload_expires_at"})),
    Dataset: Audited(
        "dataset",
        "dataset_id",
        "processing_status",
        status_event="processing_{}",
        ignored=_PROCESSING_BOOKKEEPING,
    ),
    DatasetDataVersion: Audited(
        "dataset_data_version", "dataset_data_version_id", ignored=frozenset({"upload_expires_at"})
    ),
    DatasetSchemaVersion: Audited("dataset_schema_version", "dataset_schema_version_id"),
    Pipeline: Audited("pipeline", "pipeline_id"),
    PipelineConfigurationVersion: Audited(
        "pipeline_configuration_version", "pipeline_configuration_version_id"
    ),
    PipelineExecution: Audited(
        "pipeline_execution", "pipeline_execution_id", "status", only_status=True
    ),
}
RESOURCE_TYPES = frozenset(spec.resource_type for spec in AUDITED.values())


def _wire_name(column: str) -> str:
    """`is_active` -> `isActive`: the field as the API names it."""
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), column)


def _status_event(spec: Audited, status: object) -> str:
    suffix = str(status).replace("-", "_") if isinstance(status, str) else "status_changed"
    return f"{spec.resource_type}.{spec.status_event.format(suffix)}"


def _actor(session: Session) -> tuple[str | None, str | None, dict[str, Any]]:
    """The user, the token and the metadata of whoever writes in `session`."""
    principal = session.info.get("principal")
    facts = session.info.get("request")
    meta: dict[str, Any] = {}
    if facts is not None:
        found = {
            "requestId": facts.request_id,
            "ipAddress": facts.ip_address,
            "userAgent": facts.user_agent,
        }
        meta.update((k, v) for k, v in found.items() if v is not None)
    if principal is None:
        meta["additionalInfo"] = {"actor": "system"}
        return None, None, meta
    return principal.user_id, principal.token_id, meta


def _sync(session: Session | AsyncSession) -> Session:
    return session.sync_session if isinstance(session, AsyncSession) else session


def record(
    session: Session | AsyncSession,
    *,
    resource_type: str,
    resource_id: str | None,
    action: str,
    team_id: str | None,
    event_type: str | None = None,
    fields: Iterable[str] = (),
) -> AuditLog:
    """Add one entry to `session` (written with its transaction, gone with its rollback).
    `fields` are wire names of changed fields; `event_type` defaults to
    `<resource_type>.<action>d`-style names (created, updated, deleted)."""
    sync = _sync(session)
    user_id, token_id, meta = _actor(sync)
    names = sorted(set(fields))
    entry = AuditLog(
        audit_log_id=new_id(),
        team_id=team_id,
        user_id=user_id,
        api_token_id=token_id,
        event_type=event_type or f"{resource_type}.{_PAST[action]}",
        resource_type=resource_type,
        resource_id=resource_id,
        action=action,
        changes={"fields": names} if names else None,
        meta=meta or None,
    )
    sync.add(entry)
    return entry


def _team_of(session: Session, spec: Audited, team_id: str | None) -> str | None:
    """A row's team; users belong to no one team: the caller's (none for the operator)."""
    if spec.resource_type == "user":
        principal = session.info.get("principal")
        return principal.team_id if principal is not None else None
    return team_id


def _note_token_use(session: Session) -> None:
    """One `api_token.used` entry per transaction whose token passed an admin check (a
    failed check raises and rolls the transaction back)."""
    principal = session.info.get("principal")
    if principal is None or session.info.get(_TOKEN_USE_WRITTEN):
        return
    admin_teams = [team for team, role in getattr(principal, "checks", ()) if role == "admin"]
    if not admin_teams:
        return
    session.info[_TOKEN_USE_WRITTEN] = True
    record(
        session,
        resource_type="api_token",
        resource_id=principal.token_id,
        action=EXECUTE,
        team_id=admin_teams[0],
        event_type=TOKEN_USED,
    )


def _forget_token_use(session: Session, *_: Any) -> None:
    session.info.pop(_TOKEN_USE_WRITTEN, None)


# ---- the unit of work ----

Moves = dict[str, tuple[Any, Any]]  # {column: (old value, new value)}


_COLUMNS: dict[type[Any], list[tuple[str, str]]] = {}


def _columns(model: type[Any]) -> list[tuple[str, str]]:
    """(attribute, column name) of the model's own table columns (not computed properties)."""
    if model not in _COLUMNS:
        mapper = inspect(model)
        _COLUMNS[model] = [
            (prop.key, prop.columns[0].name)
            for prop in mapper.column_attrs
            if getattr(prop.columns[0], "table", None) is mapper.local_table
        ]
    return _COLUMNS[model]


def _moves(row: Any, spec: Audited) -> Moves:
    """{column: (old, new)} of the columns of `row` that really change in this flush
    (bookkeeping aside)."""
    state = inspect(row)
    moves = {}
    for attribute, column in _columns(type(row)):
        if column in _BOOKKEEPING or column in spec.ignored:
            continue
        if spec.only_status and column != spec.status:
            continue
        history = state.attrs[attribute].history
        # Setting the value it already had is no change.
        if history.has_changes() and list(history.added) != list(history.deleted):
            moves[column] = (next(iter(history.deleted), None), next(iter(history.added), None))
    return moves


def _entries_for_changes(
    session: Session, spec: Audited, key: str, team_id: str | None, moves: Moves
) -> None:
    """Entries for one changed row: {column: (old, new)} of the columns that changed."""
    team = _team_of(session, spec, team_id)
    if spec.status is not None and spec.status in moves:
        record(
            session,
            resource_type=spec.resource_type,
            resource_id=key,
            action=EXECUTE,
            team_id=team,
            event_type=_status_event(spec, moves[spec.status][1]),
            fields=[_wire_name(spec.status)],
        )
    others = [] if spec.only_status else [c for c in moves if c != spec.status]
    if others:
        record(
            session,
            resource_type=spec.resource_type,
            resource_id=key,
            action=UPDATE,
            team_id=team,
            fields=[_wire_name(c) for c in others],
        )


def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    new, dirty, deleted = list(session.new), list(session.dirty), list(session.deleted)
    if not any(not isinstance(row, AuditLog) for row in (*new, *dirty, *deleted)):
        return
    for row in new:
        spec = AUDITED.get(type(row))
        if spec is None:
            continue
        if getattr(row, spec.key) is None:  # the column default, drawn now to name the row
            setattr(row, spec.key, new_id())
        record(
            session,
            resource_type=spec.resource_type,
            resource_id=getattr(row, spec.key),
            action=CREATE,
            team_id=_team_of(session, spec, getattr(row, "team_id", None)),
        )
    for row in dirty:
        spec = AUDITED.get(type(row))
        if spec is None or row in session.deleted:
            continue
        moves = _moves(row, spec)
        if moves:
            _entries_for_changes(
                session, spec, getattr(row, spec.key), getattr(row, "team_id", None), moves
            )
    for row in deleted:
        spec = AUDITED.get(type(row))
        if spec is not None:
            record(
                session,
                resource_type=spec.resource_type,
                resource_id=getattr(row, spec.key),
                action=DELETE,
                team_id=_team_of(session, spec, getattr(row, "team_id", None)),
            )
    _note_token_use(session)


# ---- bulk statements ----


def assigned_columns(statement: Any) -> dict[str, Any]:
    """The SET clause of an UPDATE as {column name: value} (a bound value, else the SQL
    expression). SQLAlchemy keeps it on `_values` / `_ordered_values` with no public reader."""
    pairs: Sequence[tuple[Any, Any]] = getattr(statement, "_ordered_values", None) or list(
        (getattr(statement, "_values", None) or {}).items()
    )
    assigned: dict[str, Any] = {}
    for column, value in pairs:
        name = column if isinstance(column, str) else getattr(column, "name", str(column))
        assigned[name] = value.value if isinstance(value, BindParameter) else value
    return assigned


def _on_orm_execute(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    statement: Any = state.statement
    model: Any = (getattr(statement, "entity_description", None) or {}).get("entity")
    spec = AUDITED.get(model)
    if spec is None:
        return
    session = state.session
    table = model.__table__
    team = table.c.get("team_id")
    identity = [table.c[spec.key], team if team is not None else null()]
    if state.is_delete:
        found = _matched(session, statement, identity)
        for row in found:
            record(
                session,
                resource_type=spec.resource_type,
                resource_id=row[0],
                action=DELETE,
                team_id=_team_of(session, spec, row[1]),
            )
        if found:
            _note_token_use(session)
        return
    assigned = {
        name: value
        for name, value in assigned_columns(statement).items()
        if name in table.c and name not in _BOOKKEEPING and name not in spec.ignored
        if not spec.only_status or name == spec.status
    }
    if not assigned:
        return
    names = list(assigned)
    for row in _matched(session, statement, [*identity, *(table.c[n] for n in names)]):
        old = dict(zip(names, row[2:], strict=True))
        moves = {n: (old[n], assigned[n]) for n in names if _differs(old[n], assigned[n])}
        if moves:
            _entries_for_changes(session, spec, row[0], row[1], moves)
            _note_token_use(session)


def _differs(old: Any, new: Any) -> bool:
    """Whether writing `new` over `old` changes it; an SQL expression is taken to."""
    return isinstance(new, ClauseElement) or old != new


def _matched(session: Session, statement: Any, columns: Sequence[Any]) -> list[Any]:
    """The rows `statement` will touch, locked (PostgreSQL) so it touches exactly these."""
    query = select(*columns)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    return list(session.execute(query.with_for_update()).all())


_installed = False


def install() -> None:
    """Register the listeners on every session of this process (once)."""
    global _installed
    if _installed:
        return
    event.listen(Session, "before_flush", _before_flush)
    event.listen(Session, "do_orm_execute", _on_orm_execute)
    event.listen(Session, "after_commit", _forget_token_use)
    event.listen(Session, "after_soft_rollback", _forget_token_use)
    _installed = True

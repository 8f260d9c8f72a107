"""The status vocabularies, each spelled once: the database models store them (db/models.py,
`StatusColumn`), the wire schemas describe them (schemas/), the services, jobs, workers and the
engine compare and assign them.

Each vocabulary is a `StrEnum` whose values are the stored and wire spellings, so a member is
also the plain string (`ExecutionStatus.PAUSED == "paused"`, JSON writes `"paused"`).

On the wire a vocabulary reads as the `Literal` it replaced: described inline
(`{"enum": [...], "type": "string"}`, no `$ref` component) and refused with the same message
("Input should be 'draft', 'current' or 'archived'"). `Among` narrows a field to some members
(an execution's PATCH accepts paused, running and cancelled only).

tests/test_statuses.py holds each vocabulary to the OpenAPI document and to the columns.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

__all__ = [
    "TERMINAL_EXECUTION_STATUSES",
    "Among",
    "BlockStatus",
    "ExecutionStatus",
    "FinalStatus",
    "JobStatus",
    "ProcessingStatus",
    "UploadStatus",
    "VersionStatus",
    "Vocabulary",
]


def _wire_schema(vocabulary: type[Vocabulary], members: tuple[Vocabulary, ...]) -> CoreSchema:
    """A literal of the members' values (its JSON schema and errors), read as the member."""
    return core_schema.no_info_after_validator_function(
        vocabulary, core_schema.literal_schema([member.value for member in members])
    )


class Vocabulary(StrEnum):
    """A closed set of stored, wire-visible spellings; members are their values."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return _wire_schema(cls, tuple(cls))

    @classmethod
    def values(cls) -> list[str]:
        """The spellings, in declaration order (the order the wire lists them in)."""
        return [member.value for member in cls]


class Among:
    """Field metadata: only these members of one vocabulary, listed in this order.

    status: Annotated[ExecutionStatus, Among(ExecutionStatus.PAUSED, ...)]
    """

    def __init__(self, *members: Vocabulary) -> None:
        kinds = {type(member) for member in members}
        if len(kinds) != 1:
            raise TypeError("Among takes members of one vocabulary")
        self.vocabulary: type[Vocabulary] = kinds.pop()
        self.members = members

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return _wire_schema(self.vocabulary, self.members)

    def __repr__(self) -> str:
        return f"Among({', '.join(member.value for member in self.members)})"


class ExecutionStatus(Vocabulary):
    """A pipeline or agent execution: pending -> running -> completed | failed | cancelled, and
    paused in between (the moves: services/lifecycle.py)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"


# An execution in one of these never moves again.
TERMINAL_EXECUTION_STATUSES: frozenset[ExecutionStatus] = frozenset(
    {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
)
# How one run of an execution ends (the engine's RunResult, an agent's AgentOutcome): a
# terminal status, or paused (a later run resumes it).
FinalStatus = Literal[
    ExecutionStatus.COMPLETED,
    ExecutionStatus.FAILED,
    ExecutionStatus.CANCELLED,
    ExecutionStatus.PAUSED,
]


class BlockStatus(Vocabulary):
    """One block of a running pipeline, in its execution's `progressData.blocks`
    (engine/progress.py)."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class VersionStatus(Vocabulary):
    """A pipeline configuration version, a dataset data version or a dataset schema version:
    at most one `current` per pipeline or dataset."""

    DRAFT = "draft"
    CURRENT = "current"
    ARCHIVED = "archived"


class UploadStatus(Vocabulary):
    """The bytes behind a file or a dataset data version (services/transfers.py)."""

    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"


class ProcessingStatus(Vocabulary):
    """A dataset's processing (services/lifecycle.py DATASET_PROCESSING); null before any."""

    COMPLETED = "completed"
    FAILED = "failed"
    IN_PROGRESS = "in_progress"
    NEEDS_PROCESSING = "needs-processing"


class JobStatus(Vocabulary):
    """A job of the database queue (workers/base.py): queued -> running -> done | failed."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

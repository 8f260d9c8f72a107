"""Block types by name, registered with a class decorator.

    @block("text_splitter")
    class TextSplitter(BlockType[TextSplitterConfig]):
        config_model = TextSplitterConfig
        inputs = (Port("text", required=True, primary=True),)
        outputs = (Port("chunks", primary=True, kind="array"), Port("chunk_details"))

        async def run(self, ctx, config, inputs):
            ...
            return {"chunks": chunks, "chunk_details": details}

Every module in `engine/blocks/` is imported the first time the registry is read, so adding a
block type is adding one module there.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from .jsonschemas import schema_problems
from .ports import BlockPorts, Port

if TYPE_CHECKING:
    from .context import BlockContext

C = TypeVar("C", bound=BaseModel)
B = TypeVar("B", bound="BlockType[Any]")

# Every block type of the wire contract (docs/reference/blocks.md): 19 plus the extension type.
SPEC_BLOCK_TYPES: Final[tuple[str, ...]] = (
    "constant",
    "input",
    "output",
    "dataset",
    "file",
    "artifact",
    "identity",
    "zip",
    "map",
    "join",
    "llm",
    "embeddings",
    "semantic_filter",
    "clause_extraction_agent",
    "string_template",
    "json_template",
    "text_splitter",
    "transform",
    "pdf_reader",
    "legal_variance_determination",
)


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem of a block's `config` (becomes a `block_type_error`)."""

    error_type: str
    message: str
    port_name: str | None = None


class BlockType(Generic[C]):
    """Base of every block type. Subclasses set the class attributes and implement `run`."""

    type_name: ClassVar[str] = ""
    config_model: ClassVar[type[BaseModel]]
    inputs: ClassVar[tuple[Port, ...]] = ()
    outputs: ClassVar[tuple[Port, ...]] = ()
    dynamic_inputs: ClassVar[bool] = False  # any other input port name is accepted
    description: ClassVar[str] = ""
    # Config fields holding an embedded JSON Schema (checked against Draft 7, rule V4).
    schema_fields: ClassVar[tuple[str, ...]] = ()
    # errorType for pydantic errors under a top-level config field (default: invalid_config, or
    # missing_required_config for a missing field).
    field_error_types: ClassVar[Mapping[str, str]] = {}
    # A config field whose value must be unique among blocks of this type (V13, V14).
    unique_name: ClassVar[tuple[str, str] | None] = None  # (field, errorType)
    # errorType of a block_type_error for a connection to an unknown input port (instead of the
    # connection_error `unknown_target_port`); map reports broadcast ports as invalid_map_target.
    unknown_input_error: ClassVar[str | None] = None
    min_connections: ClassVar[int] = 0  # incoming connections required in total (zip: 1)
    # Input ports of which at least one must be connected (llm: messages or prompt); reported
    # as `missing_required_input` on the first of them.
    required_one_of: ClassVar[tuple[str, ...]] = ()
    map_target: ClassVar[bool] = True  # may be a map's target (also needs a primary input)

    # -- declarations -----------------------------------------------------------------------

    def static_ports(self) -> BlockPorts:
        return BlockPorts(self.inputs, self.outputs, self.dynamic_inputs)

    def ports(self, config: C) -> BlockPorts:
        """The ports of a block with this config; override when they depend on it."""
        return self.static_ports()

    def fallback_ports(self) -> BlockPorts:
        """Ports to check connections against when the config is invalid (no cascade of errors
        from a config the user is still fixing)."""
        return self.static_ports()

    def check(self, config: C) -> list[ConfigIssue]:
        """Checks beyond the config model (rules V15 to V18). Messages start with the field they
        concern, relative to the config (`joins.0.left_key: ...`)."""
        return []

    async def run(self, ctx: BlockContext, config: C, inputs: dict[str, Any]) -> dict[str, Any]:
        """Do the work. `inputs` holds only connected ports, in connection order; the result is
        keyed by canonical output port names. Inputs are read-only: never mutate them."""
        raise NotImplementedError

    # -- machinery --------------------------------------------------------------------------

    def parse_config(self, raw: Any) -> C:
        """The config with defaults applied (raises pydantic's ValidationError)."""
        return self.config_model.model_validate(raw)  # type: ignore[return-value]

    def load_config(self, raw: Any, *, path: str = "config") -> tuple[C | None, list[ConfigIssue]]:
        """Parse and check a config: rules V2, V3, V4 and the type's own `check`."""
        try:
            config = self.parse_config(raw)
        except ValidationError as exc:
            return None, [self._pydantic_issue(error, path) for error in exc.errors()]
        issues: list[ConfigIssue] = []
        for name in self.schema_fields:
            schema = getattr(config, name, None)
            if schema is not None:
                issues.extend(
                    ConfigIssue("invalid_json_schema", f"{path}.{name}: {problem}")
                    for problem in schema_problems(schema)
                )
        issues.extend(
            ConfigIssue(issue.error_type, f"{path}.{issue.message}", issue.port_name)
            for issue in self.check(config)
        )
        return config, issues

    def _pydantic_issue(self, error: Any, path: str) -> ConfigIssue:
        loc = tuple(str(part) for part in error["loc"])
        where = ".".join((path, *loc))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing" and len(loc) == 1:
            code = "missing_required_config"
        elif loc and loc[0] in self.field_error_types:
            code = self.field_error_types[loc[0]]
        elif error["type"] == "missing":
            code = "missing_required_config"
        else:
            code = "invalid_config"
        return ConfigIssue(code, f"{where}: {message}")


def floor_at_least_one(value: float) -> int:
    return max(1, math.floor(value))


_REGISTRY: dict[str, BlockType[Any]] = {}
_LOADED = False


def block(type_name: str) -> Callable[[type[B]], type[B]]:
    """Register a block type under `type_name` (one instance per type; blocks are stateless)."""

    def register(cls: type[B]) -> type[B]:
        if type_name in _REGISTRY:
            raise ValueError(f"block type '{type_name}' is already registered")
        if cls.run is BlockType.run:
            raise TypeError(f"block type '{type_name}' does not implement run()")
        if not hasattr(cls, "config_model"):
            raise TypeError(f"block type '{type_name}' declares no config_model")
        cls.type_name = type_name
        _REGISTRY[type_name] = cls()
        return cls

    return register


def unregister(type_name: str) -> None:
    """Remove a block type (tests that register their own)."""
    _REGISTRY.pop(type_name, None)


def _ensure_loaded() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        importlib.import_module(f"{__package__}.blocks")


def find_block_type(type_name: str) -> BlockType[Any] | None:
    _ensure_loaded()
    return _REGISTRY.get(type_name)


def get_block_type(type_name: str) -> BlockType[Any]:
    found = find_block_type(type_name)
    if found is None:
        raise KeyError(f"unknown block type '{type_name}'")
    return found


def block_types() -> Iterator[BlockType[Any]]:
    """Registered block types, sorted by name."""
    _ensure_loaded()
    for name in sorted(_REGISTRY):
        yield _REGISTRY[name]


def unknown_type_message(type_name: str) -> str:
    if type_name in SPEC_BLOCK_TYPES:
        return f"block type '{type_name}' is not available on this server yet"
    known = ", ".join(block.type_name for block in block_types())
    return f"unknown block type '{type_name}' (known: {known})"

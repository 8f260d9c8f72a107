"""`join`: relational join of tabular inputs, then a typed projection.

* Tables: a name `T` is the value on input port `T` (rows or a dataset reference), else the
  dataset `dataset_names[T]`, else the dataset whose id is `T`. Input ports are the table names.
* Left fold: `acc = rows(base_dataset)`, then each join in order, rows keyed `T.column` inside.
* Keys: `left_key` is `T.col` or a bare column of exactly one left table; `right_key` a column of
  the joined table. Values match when both parse as numbers and are equal, else when their
  trimmed texts are equal; null never matches.
* SQL join types, in order: left rows in order each followed by its matches (right order), then
  unmatched right rows (`right`, `full`).
* A bare column name present in several tables is renamed (`conflict_resolution`): `prefix`
  `<L><col>`/`<R><col>` (defaults `<table>_`), `suffix` `<col><L>`/`<col><R>` (defaults
  `_<table>`), `explicit` `<col><left_modifier>`/`<col><right_modifier>`; the left table of a
  conflict is the earliest table that has the column.
* Projection: `output_columns[].source` is `T.col` or a bare (possibly renamed) name; values are
  converted to `type`; a failed conversion or a null in a non-nullable column fails the block
  (`join_type_error`, naming row and column). A blank string counts as null for non-string types.
* Budgets: every intermediate result and the output are bounded by `join_max_rows` (checked
  before a left row's matches are added, so two 10k-row tables matching on one key stop at the
  budget instead of building 100M rows), and their estimated size (rows times the average row
  size of the tables joined so far) by `max_value_bytes`. The loops yield to the event loop every
  `YIELD_EVERY` rows.
"""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal, InvalidOperation
from typing import Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..budgets import Budgets, format_bytes, json_size
from ..context import BlockContext, DatasetRows
from ..errors import BlockError
from ..ports import BlockPorts, Port
from ..registry import BlockType, ConfigIssue, block
from ..values import compact_json, parse_bool

ColumnType = Literal["string", "integer", "number", "boolean", "null", "object"]

YIELD_EVERY: Final = 2048  # rows handled between two turns of the event loop


class JoinSpec(BaseModel):
    model_config = ConfigDict(extra="allow")

    dataset: str = Field(min_length=1, description="Table name (port, alias or dataset id)")
    left_key: str = Field(min_length=1)
    right_key: str = Field(min_length=1)
    join_type: Literal["inner", "left", "right", "full"] = "inner"


class OutputColumn(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(min_length=1)
    source: str = Field(min_length=1, description="T.column or a bare (renamed) column name")
    type: ColumnType
    nullable: bool = False


class ConflictResolution(BaseModel):
    model_config = ConfigDict(extra="allow")

    strategy: Literal["prefix", "suffix", "explicit"] = "prefix"
    left_modifier: str = ""
    right_modifier: str = ""


class JoinConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    base_dataset: str = Field(min_length=1, description="First table of the left fold")
    joins: list[JoinSpec]
    output_columns: list[OutputColumn]
    dataset_names: dict[str, str] | None = Field(
        default=None, description="Table name -> dataset id"
    )
    conflict_resolution: ConflictResolution | None = None

    @model_validator(mode="after")
    def _explicit_modifiers(self) -> Self:
        resolution = self.conflict_resolution
        if resolution is not None and resolution.strategy == "explicit":
            left, right = resolution.left_modifier, resolution.right_modifier
            if not left or not right or left == right:
                raise ValueError(
                    "conflict_resolution: the explicit strategy needs two different non-empty "
                    "modifiers"
                )
        return self

    def tables(self) -> list[str]:
        return [self.base_dataset, *(join.dataset for join in self.joins)]


_OUTPUTS = (Port("data", primary=True, kind="rows"),)


@block("join")
class Join(BlockType[JoinConfig]):
    description = "Join tables (rows or datasets) and project typed output columns."
    config_model = JoinConfig
    outputs = _OUTPUTS
    dynamic_inputs = True
    map_target = False

    def ports(self, config: JoinConfig) -> BlockPorts:
        names = dict.fromkeys(config.tables())
        return BlockPorts(tuple(Port(name) for name in names), _OUTPUTS)

    def fallback_ports(self) -> BlockPorts:
        return BlockPorts((), _OUTPUTS, dynamic_inputs=True)

    def check(self, config: JoinConfig) -> list[ConfigIssue]:
        issues: list[ConfigIssue] = []
        tables = config.tables()
        for position, name in enumerate(tables):
            if name in tables[:position]:
                issues.append(
                    ConfigIssue("invalid_config", f"joins: table '{name}' is used more than once")
                )
        for number, join in enumerate(config.joins):
            left_tables = tables[: number + 1]
            table, dot, _ = join.left_key.partition(".")
            if dot and table not in left_tables:
                issues.append(
                    ConfigIssue(
                        "invalid_join_reference",
                        f"joins.{number}.left_key: '{table}' is not a table joined so far "
                        f"({', '.join(left_tables)})",
                    )
                )
            table, dot, _ = join.right_key.partition(".")
            if dot and table != join.dataset:
                issues.append(
                    ConfigIssue(
                        "invalid_join_reference",
                        f"joins.{number}.right_key: '{table}' is not the joined table "
                        f"'{join.dataset}'",
                    )
                )
        names: set[str] = set()
        for number, column in enumerate(config.output_columns):
            table, dot, _ = column.source.partition(".")
            if dot and table not in tables:
                issues.append(
                    ConfigIssue(
                        "invalid_join_reference",
                        f"output_columns.{number}.source: '{table}' is not a table of this join "
                        f"({', '.join(tables)})",
                    )
                )
            if column.name in names:
                issues.append(
                    ConfigIssue(
                        "invalid_config",
                        f"output_columns.{number}.name: '{column.name}' appears twice",
                    )
                )
            names.add(column.name)
        return issues

    async def run(
        self, ctx: BlockContext, config: JoinConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        loaded: dict[str, DatasetRows] = {}
        for name in config.tables():
            if name in inputs:
                loaded[name] = await ctx.load_rows(inputs[name], port=name)
            else:
                dataset_id = (config.dataset_names or {}).get(name, name)
                loaded[name] = await ctx.load_dataset(dataset_id)
        return {"data": await _Joiner(config, loaded, ctx.budgets).run()}


def _key(value: Any) -> Any:
    """What two join keys compare by: a number when the value parses as one, else its text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ("s", "true" if value else "false")
    if isinstance(value, int | float | str):
        text = str(value).strip()
        try:
            number = Decimal(text)
        except InvalidOperation:
            return ("s", text)
        return ("n", number) if number.is_finite() else ("s", text)
    return ("s", compact_json(value))


def _fail(message: str) -> BlockError:
    return BlockError("invalid_join_reference", message)


class _Joiner:
    def __init__(
        self, config: JoinConfig, tables: dict[str, DatasetRows], budgets: Budgets
    ) -> None:
        self.config = config
        self.tables = tables
        self.budgets = budgets
        self.columns = {name: rows.column_names() for name, rows in tables.items()}
        self.row_bytes = {name: self._row_bytes(name) for name in tables}

    def _row_bytes(self, name: str) -> int:
        """Estimated JSON size of one joined row of table `name`: its rows' average (a bounded
        walk), at least 8 bytes per column (every row gets every column, null if absent)."""
        rows = self.tables[name].rows
        floor = max(2, 8 * len(self.columns[name]))
        if not rows:
            return floor
        limit = self.budgets.max_value_bytes
        size = json_size(rows, limit)
        if size > limit:
            raise self.budgets.exceeded(
                "max_value_bytes", f"table '{name}' is at least {format_bytes(size)}"
            )
        return max(floor, size // len(rows))

    def _check(self, rows: int, row_bytes: int) -> None:
        """Fail when `rows` joined rows of about `row_bytes` each pass a budget."""
        budgets = self.budgets
        if rows > budgets.join_max_rows:
            raise budgets.exceeded("join_max_rows", f"the join would have {rows:,} rows or more")
        if rows * row_bytes > budgets.max_value_bytes:
            raise budgets.exceeded(
                "max_value_bytes",
                f"the join would be about {format_bytes(rows * row_bytes)} or more "
                f"({rows:,} rows of about {format_bytes(row_bytes)})",
            )

    async def run(self) -> list[dict[str, Any]]:
        base = self.config.base_dataset
        row_bytes = self.row_bytes[base]
        self._check(len(self.tables[base].rows), row_bytes)
        acc = [self._qualified(base, row) for row in self.tables[base].rows]
        left_tables = [base]
        for join in self.config.joins:
            row_bytes += self.row_bytes[join.dataset]
            acc = await self._join(acc, left_tables, join, row_bytes)
            left_tables.append(join.dataset)
        return await self._project(acc)

    def _qualified(self, table: str, row: dict[str, Any]) -> dict[str, Any]:
        return {f"{table}.{column}": row.get(column) for column in self.columns[table]}

    def _left_key(self, key: str, left_tables: list[str]) -> str:
        table, dot, _ = key.partition(".")
        if dot and table in left_tables:
            return key
        owners = [name for name in left_tables if key in self.columns[name]]
        if len(owners) == 1:
            return f"{owners[0]}.{key}"
        if owners:
            raise _fail(f"left_key '{key}' is ambiguous: it is a column of {', '.join(owners)}")
        if all(not self.tables[name].rows for name in left_tables):
            return f"{left_tables[0]}.{key}"  # nothing to join; the key cannot be checked
        raise _fail(f"left_key '{key}' is not a column of {', '.join(left_tables)}")

    def _right_key(self, key: str, table: str) -> str:
        name, dot, column = key.partition(".")
        bare = column if dot and name == table else key
        if bare not in self.columns[table] and self.tables[table].rows:
            raise _fail(f"right_key '{key}' is not a column of '{table}'")
        return bare

    async def _join(
        self, acc: list[dict[str, Any]], left_tables: list[str], join: JoinSpec, row_bytes: int
    ) -> list[dict[str, Any]]:
        table = join.dataset
        left_key = self._left_key(join.left_key, left_tables)
        right_key = self._right_key(join.right_key, table)
        right_rows = self.tables[table].rows
        index: dict[Any, list[int]] = {}
        for position, row in enumerate(right_rows):
            key = _key(row.get(right_key))
            if key is not None:
                index.setdefault(key, []).append(position)
        right_null = {f"{table}.{column}": None for column in self.columns[table]}
        keep_left = join.join_type in ("left", "full")
        keep_right = join.join_type in ("right", "full")
        matched = [False] * len(right_rows)
        result: list[dict[str, Any]] = []
        for number, row in enumerate(acc, start=1):
            key = _key(row.get(left_key))
            positions = index.get(key, []) if key is not None else []
            self._check(len(result) + (len(positions) or 1), row_bytes)
            for position in positions:
                matched[position] = True
                result.append({**row, **self._qualified(table, right_rows[position])})
            if not positions and keep_left:
                result.append({**row, **right_null})
            if number % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        if keep_right:
            left_null = {
                f"{name}.{column}": None for name in left_tables for column in self.columns[name]
            }
            unmatched = matched.count(False)
            self._check(len(result) + unmatched, row_bytes)
            for position, row in enumerate(right_rows):
                if not matched[position]:
                    result.append({**left_null, **self._qualified(table, row)})
        return result

    def _bare_names(self) -> dict[str, str]:
        """Bare (possibly renamed) column name -> qualified name."""
        owners: dict[str, list[str]] = {}
        for table in self.config.tables():
            for column in self.columns[table]:
                owners.setdefault(column, []).append(table)
        resolution = self.config.conflict_resolution or ConflictResolution()
        names: dict[str, str] = {}
        for column, tables in owners.items():
            if len(tables) == 1:
                names.setdefault(column, f"{tables[0]}.{column}")
                continue
            left = tables[0]
            for table in tables:
                side = resolution.left_modifier if table == left else resolution.right_modifier
                if resolution.strategy == "prefix":
                    renamed = f"{side or table + '_'}{column}"
                elif resolution.strategy == "suffix":
                    renamed = f"{column}{side or '_' + table}"
                else:
                    renamed = f"{column}{side}"
                names.setdefault(renamed, f"{table}.{column}")
        return names

    async def _project(self, acc: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not acc:  # nothing to project (and columns of empty tables may be unknown)
            return []
        bare = self._bare_names()
        tables = self.config.tables()
        sources: list[tuple[OutputColumn, str]] = []
        for column in self.config.output_columns:
            table, dot, name = column.source.partition(".")
            if dot and table in tables:
                if name not in self.columns[table] and self.tables[table].rows:
                    raise _fail(
                        f"output column '{column.name}': '{name}' is not a column of '{table}'"
                    )
                sources.append((column, column.source))
            elif column.source in bare:
                sources.append((column, bare[column.source]))
            else:
                raise _fail(
                    f"output column '{column.name}': source '{column.source}' not found "
                    f"(available: {', '.join(sorted(bare))})"
                )
        rows = []
        for number, row in enumerate(acc):
            rows.append(
                {
                    column.name: _convert(row.get(source), column, number)
                    for column, source in sources
                }
            )
            if number % YIELD_EVERY == YIELD_EVERY - 1:
                await asyncio.sleep(0)
        return rows


def _convert(value: Any, column: OutputColumn, row: int) -> Any:
    kind = column.type
    if kind == "null":
        return None
    if kind != "string" and isinstance(value, str) and not value.strip():
        value = None
    if value is None:
        if not column.nullable:
            raise BlockError(
                "join_type_error",
                f"row {row}, column '{column.name}': null in a non-nullable column",
            )
        return None
    converted = _CONVERTERS[kind](value)
    if converted is _FAILED:
        raise BlockError(
            "join_type_error",
            f"row {row}, column '{column.name}': cannot convert {compact_json(value)[:100]} to "
            f"{kind}",
        )
    return converted


_FAILED = object()


def _to_string(value: Any) -> Any:
    return value if isinstance(value, str) else compact_json(value)


def _to_integer(value: Any) -> Any:
    if isinstance(value, bool):
        return _FAILED
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else _FAILED
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return _FAILED
        if number.is_finite() and number == number.to_integral_value():
            return int(number)
    return _FAILED


def _to_number(value: Any) -> Any:
    if isinstance(value, bool):
        return _FAILED
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            return _FAILED
        return number if number == number and abs(number) != float("inf") else _FAILED
    return _FAILED


def _to_boolean(value: Any) -> Any:
    parsed = parse_bool(value)
    return _FAILED if parsed is None else parsed


def _to_object(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


_CONVERTERS = {
    "string": _to_string,
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
    "object": _to_object,
}

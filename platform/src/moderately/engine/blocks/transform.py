"""`transform`: deterministic reshaping of JSON data, without code.

`operations` apply in order, each to the previous result. Each is an object with `type` (alias
`op`) and its parameters; the vocabulary is the spec's table. An operation on objects that
receives a list applies to every element (`get` with a leading digit segment indexes the list
itself). Wrong kinds of values fail with `transform_type_error`, naming the operation index.

Comparisons (`filter`, `sort`): numbers numerically, strings lexically, booleans as booleans,
mixed kinds by their text forms; `null` sorts last and matches only `eq null` / `ne`. The `regex`
filter runs on RE2 (`patterns.py`): linear time, no backreferences or lookaround.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..budgets import Budgets, ResourceLimitError, format_bytes, json_size
from ..context import BlockContext
from ..cooperative import run_step
from ..errors import BlockError
from ..patterns import pattern_problem, search
from ..ports import Port
from ..registry import BlockType, block
from ..templating import RenderMeter, render_text
from ..values import MISSING, compact_json, copy_value, describe, get_path, set_path, to_text


class _Op(BaseModel):
    model_config = ConfigDict(extra="allow")


class GetOp(_Op):
    type: Literal["get"]
    path: str


class SetOp(_Op):
    type: Literal["set"]
    path: str
    value: Any = None


class PickOp(_Op):
    type: Literal["pick"]
    fields: list[str]


class OmitOp(_Op):
    type: Literal["omit"]
    fields: list[str]


class RenameOp(_Op):
    type: Literal["rename"]
    mapping: dict[str, str]


class MergeOp(_Op):
    type: Literal["merge"]
    value: dict[str, Any]


class DefaultOp(_Op):
    type: Literal["default"]
    value: Any = None


FilterOperator = Literal[
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "in",
    "not_in",
    "contains",
    "not_contains",
    "exists",
    "not_exists",
    "regex",
]


class FilterOp(_Op):
    type: Literal["filter"]
    field: str | None = None
    operator: FilterOperator
    value: Any = None

    @model_validator(mode="after")
    def _check_value(self) -> Self:
        if self.operator in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"operator '{self.operator}' needs a list value")
        if self.operator == "regex":
            if not isinstance(self.value, str):
                raise ValueError("operator 'regex' needs a string value")
            problem = pattern_problem(self.value)  # RE2: linear time, whatever the pattern
            if problem is not None:
                raise ValueError(problem)
        return self


class SortOp(_Op):
    type: Literal["sort"]
    field: str | None = None
    direction: Literal["asc", "desc"] = "asc"


class LimitOp(_Op):
    type: Literal["limit"]
    count: int = Field(ge=0)
    offset: int = Field(default=0, ge=0)


class UniqueOp(_Op):
    type: Literal["unique"]
    field: str | None = None


class PluckOp(_Op):
    type: Literal["pluck"]
    field: str


class FlattenOp(_Op):
    type: Literal["flatten"]
    depth: int = Field(default=1, ge=0)


class GroupByOp(_Op):
    type: Literal["group_by"]
    field: str


class CountOp(_Op):
    type: Literal["count"]


class WrapOp(_Op):
    type: Literal["wrap"]
    key: str


class JoinTextOp(_Op):
    type: Literal["join_text"]
    separator: str = "\n"


class SplitTextOp(_Op):
    type: Literal["split_text"]
    separator: str = Field(min_length=1)


class FormatOp(_Op):
    type: Literal["format"]
    template: str


class ToJsonOp(_Op):
    type: Literal["to_json"]


class ParseJsonOp(_Op):
    type: Literal["parse_json"]


Operation = Annotated[
    GetOp
    | SetOp
    | PickOp
    | OmitOp
    | RenameOp
    | MergeOp
    | DefaultOp
    | FilterOp
    | SortOp
    | LimitOp
    | UniqueOp
    | PluckOp
    | FlattenOp
    | GroupByOp
    | CountOp
    | WrapOp
    | JoinTextOp
    | SplitTextOp
    | FormatOp
    | ToJsonOp
    | ParseJsonOp,
    Field(discriminator="type"),
]


class TransformConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    operations: list[Operation] = Field(
        description="Applied in order; each is {type (alias op), ...parameters}"
    )

    @model_validator(mode="before")
    @classmethod
    def _op_alias(cls, data: Any) -> Any:
        """`op` is accepted for `type`."""
        if isinstance(data, dict) and isinstance(data.get("operations"), list):
            operations = [
                {**item, "type": item["op"]}
                if isinstance(item, dict) and "type" not in item and "op" in item
                else item
                for item in data["operations"]
            ]
            return {**data, "operations": operations}
        return data


class _TypeError(Exception):
    """The operation got a kind of value it cannot work on."""


# -- comparisons ----------------------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(left: Any, right: Any) -> int:
    if _is_number(left) and _is_number(right):
        return (left > right) - (left < right)
    if isinstance(left, str) and isinstance(right, str):
        return (left > right) - (left < right)
    if isinstance(left, bool) and isinstance(right, bool):
        return int(left) - int(right)
    left_text, right_text = to_text(left), to_text(right)
    return (left_text > right_text) - (left_text < right_text)


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is None and right is None
    return _compare(left, right) == 0


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _contains(container: Any, value: Any) -> bool:
    if isinstance(container, str):
        return isinstance(value, str) and value in container
    if isinstance(container, list):
        return any(_equal(item, value) for item in container)
    if isinstance(container, dict):
        return isinstance(value, str) and value in container
    return False


def _matches(op: FilterOp, element: Any) -> bool:
    found = get_path(element, op.field) if op.field else element
    subject = None if found is MISSING else found
    operator, value = op.operator, op.value
    if operator == "exists":
        return subject is not None
    if operator == "not_exists":
        return subject is None
    if operator == "eq":
        return _equal(subject, value)
    if operator == "ne":
        return not _equal(subject, value)
    if operator in ("gt", "gte", "lt", "lte"):
        if subject is None or value is None:
            return False
        order = _compare(subject, value)
        return {"gt": order > 0, "gte": order >= 0, "lt": order < 0, "lte": order <= 0}[operator]
    if operator == "in":
        return any(_equal(subject, item) for item in value)
    if operator == "not_in":
        return not any(_equal(subject, item) for item in value)
    if operator == "contains":
        return _contains(subject, value)
    if operator == "not_contains":
        return not _contains(subject, value)
    # regex
    return subject is not None and search(value, to_text(subject))


# -- operations -----------------------------------------------------------------------------


def _each_object(value: Any, name: str, apply: Callable[[dict[str, Any]], Any]) -> Any:
    """Apply an object operation to an object, or to every element of a list of objects."""
    if isinstance(value, dict):
        return apply(value)
    if isinstance(value, list):
        results = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise _TypeError(f"{name} needs objects; element {index} is {describe(item)}")
            results.append(apply(item))
        return results
    raise _TypeError(f"{name} needs an object or a list of objects, got {describe(value)}")


def _list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise _TypeError(f"{name} needs a list, got {describe(value)}")
    return value


def _get(op: GetOp, value: Any) -> Any:
    first = op.path.split(".", 1)[0]
    if isinstance(value, list) and not first.isdigit():
        return [None if (found := get_path(item, op.path)) is MISSING else found for item in value]
    found = get_path(value, op.path)
    return None if found is MISSING else found


def _set(op: SetOp, value: Any) -> Any:
    try:
        return _each_object(value, "set", lambda item: set_path(item, op.path, op.value))
    except ValueError as exc:
        raise _TypeError(str(exc)) from None


def _rename(mapping: dict[str, str], item: dict[str, Any]) -> dict[str, Any]:
    return {mapping.get(key, key): entry for key, entry in item.items()}


def _sort(op: SortOp, value: Any) -> list[Any]:
    items = _list(value, "sort")
    keyed = [
        (None if (found := get_path(item, op.field) if op.field else item) is MISSING else found)
        for item in items
    ]
    present = [(key, item) for key, item in zip(keyed, items, strict=True) if key is not None]
    absent = [item for key, item in zip(keyed, items, strict=True) if key is None]

    def by_key(left: tuple[Any, Any], right: tuple[Any, Any]) -> int:
        return _compare(left[0], right[0])

    ordered = sorted(present, key=functools.cmp_to_key(by_key), reverse=op.direction == "desc")
    return [item for _, item in ordered] + absent


def _unique(op: UniqueOp, value: Any) -> list[Any]:
    seen: set[str] = set()
    kept = []
    for item in _list(value, "unique"):
        key = get_path(item, op.field) if op.field else item
        canonical = _canonical(None if key is MISSING else key)
        if canonical not in seen:
            seen.add(canonical)
            kept.append(item)
    return kept


def _pluck(op: PluckOp, value: Any) -> list[Any]:
    result = []
    for index, item in enumerate(_list(value, "pluck")):
        if not isinstance(item, dict):
            raise _TypeError(f"pluck needs objects; element {index} is {describe(item)}")
        found = get_path(item, op.field)
        result.append(None if found is MISSING else found)
    return result


def _flatten(items: list[Any], depth: int) -> list[Any]:
    if depth <= 0:
        return list(items)
    flat: list[Any] = []
    for item in items:
        if isinstance(item, list):
            flat.extend(_flatten(item, depth - 1))
        else:
            flat.append(item)
    return flat


def _group_by(op: GroupByOp, value: Any) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for item in _list(value, "group_by"):
        found = get_path(item, op.field)
        key = None if found is MISSING else found
        group = groups.setdefault(_canonical(key), {"key": key, "items": []})
        group["items"].append(item)
    return list(groups.values())


def _count(value: Any) -> int:
    if isinstance(value, list | str | dict):
        return len(value)
    raise _TypeError(f"count needs a list, a string or an object, got {describe(value)}")


def _split_text(op: SplitTextOp, value: Any) -> Any:
    if isinstance(value, str):
        return value.split(op.separator)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.split(op.separator) for item in value]
    raise _TypeError(f"split_text needs a string, got {describe(value)}")


def _format(op: FormatOp, value: Any, missing: list[str], budgets: Budgets | None = None) -> Any:
    total: RenderMeter | None = None
    if budgets is not None:
        total = RenderMeter(budgets.max_value_bytes, budget="max_value_bytes", what="format text")

    def render(item: Any) -> str:
        variables = dict(item) if isinstance(item, dict) else {}
        variables["item"] = item
        meter: RenderMeter | None = None
        if budgets is not None:
            meter = RenderMeter(budgets.template_max_output_bytes, parent=total)
        return render_text(op.template, variables, missing, meter)

    if isinstance(value, list):
        return [render(item) for item in value]
    return render(value)


def _parse_json(value: Any) -> Any:
    if not isinstance(value, str):
        raise _TypeError(f"parse_json needs a string, got {describe(value)}")
    try:
        return json.loads(value)
    except json.JSONDecodeError as exc:
        raise _TypeError(f"parse_json: invalid JSON ({exc})") from None


def apply_operation(
    op: BaseModel, value: Any, missing: list[str], budgets: Budgets | None = None
) -> Any:
    """One operation on `value` (never mutated); raises `_TypeError` for a wrong kind, and
    `ResourceLimitError` when `format` passes a budget."""
    if isinstance(op, GetOp):
        return _get(op, value)
    if isinstance(op, SetOp):
        return _set(op, value)
    if isinstance(op, PickOp):
        keep = op.fields
        return _each_object(value, "pick", lambda item: {k: item[k] for k in keep if k in item})
    if isinstance(op, OmitOp):
        drop = set(op.fields)
        return _each_object(
            value, "omit", lambda item: {k: v for k, v in item.items() if k not in drop}
        )
    if isinstance(op, RenameOp):
        return _each_object(value, "rename", lambda item: _rename(op.mapping, item))
    if isinstance(op, MergeOp):
        return _each_object(value, "merge", lambda item: {**item, **copy_value(op.value)})
    if isinstance(op, DefaultOp):
        if isinstance(value, list):
            return [copy_value(op.value) if item is None else item for item in value]
        return copy_value(op.value) if value is None else value
    if isinstance(op, FilterOp):
        return [item for item in _list(value, "filter") if _matches(op, item)]
    if isinstance(op, SortOp):
        return _sort(op, value)
    if isinstance(op, LimitOp):
        return _list(value, "limit")[op.offset : op.offset + op.count]
    if isinstance(op, UniqueOp):
        return _unique(op, value)
    if isinstance(op, PluckOp):
        return _pluck(op, value)
    if isinstance(op, FlattenOp):
        return _flatten(_list(value, "flatten"), op.depth)
    if isinstance(op, GroupByOp):
        return _group_by(op, value)
    if isinstance(op, CountOp):
        return _count(value)
    if isinstance(op, WrapOp):
        return {op.key: value}
    if isinstance(op, JoinTextOp):
        return op.separator.join(to_text(item) for item in _list(value, "join_text"))
    if isinstance(op, SplitTextOp):
        return _split_text(op, value)
    if isinstance(op, FormatOp):
        return _format(op, value, missing, budgets)
    if isinstance(op, ToJsonOp):
        return compact_json(value)
    if isinstance(op, ParseJsonOp):
        return _parse_json(value)
    raise _TypeError(f"unknown operation {type(op).__name__}")  # pragma: no cover


@block("transform")
class Transform(BlockType[TransformConfig]):
    description = "Reshape JSON data with a list of operations (get, filter, sort, ...)."
    config_model = TransformConfig
    inputs = (Port("data", required=True, primary=True),)
    outputs = (Port("data", primary=True),)
    field_error_types = MappingProxyType({"operations": "invalid_transform_operation"})

    async def run(
        self, ctx: BlockContext, config: TransformConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        # Budgets: format renders under template_max_output_bytes per text and max_value_bytes
        # for all; set/merge/default fail before copying into every element when that would
        # pass max_value_bytes; growing operations are measured after they run. A step on a
        # large value runs in a worker thread, so the run stays cancellable (`run_step`).
        value = inputs.get("data")
        missing: list[str] = []
        budgets = ctx.budgets
        for index, op in enumerate(config.operations):
            try:
                _check_growth(op, value, budgets)
                step = functools.partial(apply_operation, op, value, missing, budgets)
                value = await run_step(step, value)
                if isinstance(op, _GROWING):
                    size = json_size(value, budgets.max_value_bytes)
                    if size > budgets.max_value_bytes:
                        raise budgets.exceeded(
                            "max_value_bytes", f"the result is at least {format_bytes(size)}"
                        )
            except _TypeError as exc:
                raise BlockError(
                    "transform_type_error", f"operation {index} ({op.type}): {exc}"
                ) from None
            except ResourceLimitError as exc:
                raise exc.within(f"operation {index} ({op.type})") from None
        for path in dict.fromkeys(missing):
            ctx.warn(f"unresolved placeholder {{{{{path}}}}} left as is")
        return {"data": value}


# Operations whose result can be larger than their input (measured after they run).
_GROWING = (SetOp, MergeOp, DefaultOp, SplitTextOp, ToJsonOp, ParseJsonOp, FormatOp, JoinTextOp)


def _check_growth(op: BaseModel, value: Any, budgets: Budgets) -> None:
    """Fail before `set`/`merge`/`default` copy their value into every element of a list when
    the copies alone would pass `max_value_bytes`."""
    if not isinstance(value, list) or not isinstance(op, SetOp | MergeOp | DefaultOp):
        return
    count = len(value) if not isinstance(op, DefaultOp) else value.count(None)
    if count == 0:
        return
    limit = budgets.max_value_bytes
    each = json_size(op.value, limit // count)
    if each * count > limit:
        raise budgets.exceeded(
            "max_value_bytes",
            f"copying its value ({format_bytes(each)} or more) into {count:,} elements makes "
            f"at least {format_bytes(each * count)}",
        )

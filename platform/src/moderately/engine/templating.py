"""`{{ path }}` placeholders, shared by the templates and `transform`.

* A placeholder is `{{`, optional spaces, a path (1.6), optional spaces, `}}`.
* The first path segment names a variable; the rest walks into its value.
* Text substitution inserts strings as they are and any other value as compact JSON.
* An unresolved placeholder stays verbatim and is reported to the caller (`missing`).
* With a `RenderMeter`, the output is measured while it is built: rendering stops with a
  `resource_limit` error as soon as the next piece would take it over the meter's budget, so a
  template that doubles its input never builds more than the budget allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .budgets import ResourceLimitError, format_bytes, json_size, over_budget, text_bytes
from .ports import DATA
from .values import MISSING, compact_json, copy_value, get_path, split_path, to_text

PLACEHOLDER: Final = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_WHOLE: Final = re.compile(r"^\s*\{\{\s*([^{}\s]+)\s*\}\}\s*$")


class RenderMeter:
    """Bytes (UTF-8; compact JSON for `render_json`) rendered so far against a budget.

    `add` raises `ResourceLimitError` (naming `budget`) once the total passes `limit`; with a
    `parent`, what is added counts there too (e.g. one meter per rendered string under one for
    a whole list of them).
    """

    __slots__ = ("budget", "limit", "parent", "size", "what")

    def __init__(
        self,
        limit: int,
        *,
        budget: str = "template_max_output_bytes",
        what: str = "rendered text",
        parent: RenderMeter | None = None,
    ) -> None:
        self.limit = limit
        self.budget = budget
        self.what = what
        self.parent = parent
        self.size = 0

    def room(self) -> int:
        """Bytes that can still be added without passing this meter's (or a parent's) limit."""
        room = self.limit - self.size
        if self.parent is not None:
            room = min(room, self.parent.room())
        return max(room, 0)

    def add(self, amount: int) -> None:
        self.size += amount
        if self.size > self.limit:
            raise self.error()
        if self.parent is not None:
            self.parent.add(amount)

    def error(self) -> ResourceLimitError:
        return over_budget(
            self.budget, self.limit, f"{self.what} is at least {format_bytes(self.size)}"
        )

    def add_value(self, value: Any) -> None:
        """Count `value` as compact JSON; the walk stops once it cannot fit."""
        self.add(json_size(value, self.room()))


def template_variables(inputs: Mapping[str, Any], primary: str = DATA) -> dict[str, Any]:
    """Variables from a template block's inputs: the keys of an object on `data` (or the value
    itself under the name `data`), then every other connected port by its name."""
    variables: dict[str, Any] = {}
    if primary in inputs:
        value = inputs[primary]
        if isinstance(value, dict):
            variables.update(value)
        else:
            variables[primary] = value
    for name, value in inputs.items():
        if name != primary:
            variables[name] = value
    return variables


def lookup(variables: Mapping[str, Any], path: str) -> Any:
    """The value a placeholder path names, or `MISSING`."""
    segments = split_path(path)
    if not segments or segments[0] not in variables:
        return MISSING
    return get_path(variables[segments[0]], segments[1:])


def render_text(
    template: str,
    variables: Mapping[str, Any],
    missing: list[str],
    meter: RenderMeter | None = None,
) -> str:
    """Substitute every placeholder; unresolved ones stay and their paths go to `missing`.

    With `meter`, every piece is counted before it is added (a non-string value is measured
    before it is converted to JSON), and the text is assembled only when it fits."""
    if meter is not None:
        return _render_metered(template, variables, missing, meter)
    if "{{" not in template:
        return template

    def substitute(match: re.Match[str]) -> str:
        value = lookup(variables, match.group(1))
        if value is MISSING:
            missing.append(match.group(1))
            return match.group(0)
        return to_text(value)

    return PLACEHOLDER.sub(substitute, template)


def _render_metered(
    template: str, variables: Mapping[str, Any], missing: list[str], meter: RenderMeter
) -> str:
    parts: list[str] = []
    position = 0
    for match in PLACEHOLDER.finditer(template):
        literal = template[position : match.start()]
        meter.add(text_bytes(literal))
        parts.append(literal)
        position = match.end()
        value = lookup(variables, match.group(1))
        if value is MISSING:
            missing.append(match.group(1))
            piece = match.group(0)
        elif isinstance(value, str):
            piece = value
        else:
            room = meter.room()
            estimate = json_size(value, room)
            if estimate > room:
                meter.add(estimate)  # raises: do not build the JSON
            piece = compact_json(value)
        meter.add(text_bytes(piece))
        parts.append(piece)
    tail = template[position:]
    meter.add(text_bytes(tail))
    parts.append(tail)
    return "".join(parts)


def render_json(
    template: Any,
    variables: Mapping[str, Any],
    missing: list[str],
    meter: RenderMeter | None = None,
) -> Any:
    """A copy of `template` with every string rendered; a string that is exactly one placeholder
    becomes the variable's value with its JSON type. Object keys are not rendered.

    With `meter`, the result's compact JSON size is counted as it is built (a placeholder's
    value before it is copied)."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole is not None:
            value = lookup(variables, whole.group(1))
            if value is MISSING:
                missing.append(whole.group(1))
                if meter is not None:
                    meter.add_value(template)
                return template
            if meter is not None:
                meter.add_value(value)
            return copy_value(value)
        if meter is not None:
            meter.add(2)  # the quotes
        return render_text(template, variables, missing, meter)
    if isinstance(template, dict):
        if meter is not None:
            meter.add(2 + sum(text_bytes(key) + 4 for key in template))
        return {key: render_json(item, variables, missing, meter) for key, item in template.items()}
    if isinstance(template, list):
        if meter is not None:
            meter.add(2 + len(template))
        return [render_json(item, variables, missing, meter) for item in template]
    if meter is not None:
        meter.add_value(template)
    return template

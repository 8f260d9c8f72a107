"""`{{ path }}` placeholders (pipelines.md 2.15, 2.16), shared by the templates and `transform`.

* A placeholder is `{{`, optional spaces, a path (1.6), optional spaces, `}}`.
* The first path segment names a variable; the rest walks into its value.
* Text substitution inserts strings as they are and any other value as compact JSON.
* An unresolved placeholder stays verbatim and is reported to the caller (`missing`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from .ports import DATA
from .values import MISSING, copy_value, get_path, split_path, to_text

PLACEHOLDER: Final = re.compile(r"\{\{\s*([^{}\s]+)\s*\}\}")
_WHOLE: Final = re.compile(r"^\s*\{\{\s*([^{}\s]+)\s*\}\}\s*$")


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


def render_text(template: str, variables: Mapping[str, Any], missing: list[str]) -> str:
    """Substitute every placeholder; unresolved ones stay and their paths go to `missing`."""
    if "{{" not in template:
        return template

    def substitute(match: re.Match[str]) -> str:
        value = lookup(variables, match.group(1))
        if value is MISSING:
            missing.append(match.group(1))
            return match.group(0)
        return to_text(value)

    return PLACEHOLDER.sub(substitute, template)


def render_json(template: Any, variables: Mapping[str, Any], missing: list[str]) -> Any:
    """A copy of `template` with every string rendered; a string that is exactly one placeholder
    becomes the variable's value with its JSON type. Object keys are not rendered."""
    if isinstance(template, str):
        whole = _WHOLE.match(template)
        if whole is not None:
            value = lookup(variables, whole.group(1))
            if value is MISSING:
                missing.append(whole.group(1))
                return template
            return copy_value(value)
        return render_text(template, variables, missing)
    if isinstance(template, dict):
        return {key: render_json(item, variables, missing) for key, item in template.items()}
    if isinstance(template, list):
        return [render_json(item, variables, missing) for item in template]
    return template

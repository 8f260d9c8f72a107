"""`make docs`: write the wire-contract reference in docs/reference/ from the code itself.

    python scripts/gen_docs.py                 # (re)write docs/reference/
    python scripts/gen_docs.py --out DIR       # write somewhere else
    python scripts/gen_docs.py --check         # exit 1 when docs/reference/ is stale

Nothing is described by hand that the code already says: the REST API comes from the server's
own OpenAPI document (the app is built in-process, no server runs), the block reference from the
engine's registry, its config models, budgets and settings. The prose around them is in
`docs/reference/templates/`. Output is the same bytes on every run, whatever the environment
(`MODERATELY_*` variables are ignored while the app is built), so the test
platform/tests/test_docs_reference.py can compare it with what is committed.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import re
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"
TEMPLATES = REFERENCE / "templates"
SETTINGS_PREFIX = "MODERATELY_"
TEST_TYPE_PREFIX = "test_"  # block types the platform's tests register (tests/block_plugins.py)
HTTP_METHODS = ("get", "post", "put", "patch", "delete")
# The published API's operations (`METHOD /path` lines); every other one must be an extension.
PUBLISHED_OPERATIONS = TEMPLATES / "published-operations.txt"
BOUND_WORDS = (
    ("minimum", ">= {}"),
    ("exclusiveMinimum", "> {}"),
    ("maximum", "<= {}"),
    ("exclusiveMaximum", "< {}"),
    ("minLength", "length >= {}"),
    ("maxLength", "length <= {}"),
    ("minItems", "items >= {}"),
    ("maxItems", "items <= {}"),
    ("minProperties", "keys >= {}"),
    ("maxProperties", "keys <= {}"),
)
# Stored text never holds NUL: every wire string says so; the reference says it once instead.
NO_NUL_PATTERN = "^[^\\x00]*$"


# -- markdown helpers -------------------------------------------------------------------------


def cell(text: Any) -> str:
    """`text` fit for one table cell: one line, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def paragraphs(text: str) -> str:
    """A docstring-like text as markdown paragraphs (wrapped lines joined)."""
    blocks = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(block.split()) for block in blocks if block.strip())


def table(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = list(header)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def code(value: Any) -> str:
    return f"`{value}`"


def json_literal(value: Any) -> str:
    return code(json.dumps(value, sort_keys=True, ensure_ascii=False))


def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8").strip()


# -- JSON Schema to words ---------------------------------------------------------------------


def ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema a `$ref` points at (in `defs`), or `schema` itself."""
    ref = schema.get("$ref")
    return defs.get(ref_name(ref), {}) if isinstance(ref, str) else schema


def type_label(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """A short reading of a schema's type: `string`, `array of Port`, `integer or null`, ..."""
    if "$ref" in schema:
        name = ref_name(schema["$ref"])
        target = defs.get(name, {})
        if "enum" in target:
            return f"{name} ({' / '.join(json.dumps(v) for v in target['enum'])})"
        return name
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " / ".join(json.dumps(value) for value in schema["enum"])
    for combiner in ("anyOf", "oneOf"):
        if combiner in schema:
            return " or ".join(type_label(branch, defs) for branch in schema[combiner])
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return type_label(schema["allOf"][0], defs)
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind == "array":
        items = schema.get("items")
        return f"array of {type_label(items, defs)}" if isinstance(items, dict) else "array"
    if kind == "object" and isinstance(schema.get("additionalProperties"), dict):
        return f"object of {type_label(schema['additionalProperties'], defs)}"
    if kind == "string" and "format" in schema:
        return f"string ({schema['format']})"
    return str(kind) if kind else "any"


def plain_number(value: Any) -> Any:
    """`1` for the `1.0` a document may hold for an integer bound."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def bounds(schema: Mapping[str, Any]) -> list[str]:
    """Limits stated on a schema or on its branches (an optional integer keeps them there)."""
    found: list[str] = []
    for branch in (schema, *schema.get("anyOf", ()), *schema.get("oneOf", ())):
        for key, words in BOUND_WORDS:
            if key in branch:
                found.append(words.format(plain_number(branch[key])))
        pattern = branch.get("pattern")
        if pattern and pattern != NO_NUL_PATTERN:
            found.append(f"pattern {pattern}")
    return list(dict.fromkeys(found))


def properties_table(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> str:
    """One row per property: name, type, required, default, bounds, description."""
    properties: Mapping[str, Any] = schema.get("properties", {})
    if not properties:
        return "No fields."
    required = set(schema.get("required", ()))
    rows = []
    for name, prop in properties.items():
        default = json_literal(prop["default"]) if "default" in prop else ""
        rows.append(
            (
                code(name),
                type_label(prop, defs),
                "yes" if name in required else "",
                default,
                ", ".join(bounds(prop)),
                prop.get("description", ""),
            )
        )
    return table(("field", "type", "required", "default", "bounds", "description"), rows)


def model_sections(
    names: Iterable[str], defs: Mapping[str, Any], level: str, *, label: str = ""
) -> list[str]:
    """A heading and a fields table per named object schema of `defs` (enums in one line)."""
    out: list[str] = []
    for name in names:
        schema = defs[name]
        out.append(f"{level} {label}`{name}`")
        if "description" in schema:
            out.append(paragraphs(schema["description"]))
        if "enum" in schema:
            out.append("One of " + ", ".join(json_literal(v) for v in schema["enum"]) + ".")
        elif "properties" in schema or schema.get("type") == "object":
            out.append(properties_table(schema, defs))
        else:
            out.append(f"Type: {type_label(schema, defs)}.")
    return out


# -- the REST API -----------------------------------------------------------------------------


@contextlib.contextmanager
def settings_environment_cleared() -> Iterator[None]:
    """Hide `MODERATELY_*` variables: the reference describes the defaults, not this shell."""
    saved = {key: value for key, value in os.environ.items() if key.startswith(SETTINGS_PREFIX)}
    for key in saved:
        del os.environ[key]
    try:
        yield
    finally:
        os.environ.update(saved)


def openapi_document() -> dict[str, Any]:
    """The server's OpenAPI document, from an app built on default settings (nothing runs)."""
    from moderately.app import create_app
    from moderately.config import Settings

    with settings_environment_cleared(), tempfile.TemporaryDirectory() as data_dir:
        app = create_app(Settings(data_dir=Path(data_dir)))
        return app.openapi()


def operations(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """(method, path, operation) in the document's order."""
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


def published_operations() -> set[tuple[str, str]]:
    """(METHOD, path) of every operation of the published API."""
    found: set[tuple[str, str]] = set()
    for line in PUBLISHED_OPERATIONS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            method, path = line.split()
            found.add((method.upper(), path))
    return found


def extension_operations(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """`METHOD /path` of the operations of each extension (api/extensions.py), by name; fails
    when an operation is neither published nor marked, or is marked with an unknown name."""
    from moderately.api.extensions import MARKER, NAMES

    published = published_operations()
    found: dict[str, list[str]] = {name: [] for name in NAMES}
    for method, path, operation in operations(document):
        name = operation.get(MARKER)
        if name is None:
            if (method.upper(), path) not in published:
                raise SystemExit(f"{method.upper()} {path} is not published: mark its extension")
            continue
        if name not in found:
            raise SystemExit(f"{method.upper()} {path} names an unknown extension {name!r}")
        found[name].append(f"{method.upper()} {path}")
    return found


def extension_count(document: Mapping[str, Any]) -> int:
    return sum(len(found) for found in extension_operations(document).values())


def render_extensions(document: Mapping[str, Any]) -> str:
    from moderately.api.extensions import EXTENSIONS

    by_name = extension_operations(document)
    rows = [
        (
            code(extension.name),
            "<br>".join(f"[`{op}`](#{anchor(op)})" for op in by_name[extension.name]),
            extension.purpose,
            extension.without,
        )
        for extension in EXTENSIONS
    ]
    return "\n".join(
        [
            "## Extensions",
            "",
            template("extensions-preamble.md"),
            "",
            table(("extension", "operations", "what it adds", "the SDK without it"), rows),
        ]
    )


def error_descriptions(document: Mapping[str, Any]) -> dict[str, str]:
    """The usual description of each error status (the one most operations give)."""
    seen: dict[str, Counter[str]] = {}
    for _, _, operation in operations(document):
        for status, response in operation.get("responses", {}).items():
            if is_error(status):
                seen.setdefault(status, Counter())[response.get("description", "")] += 1
    return {
        status: min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        for status, counts in sorted(seen.items())
    }


def is_error(status: str) -> bool:
    return status[:1] in ("4", "5")


def body_label(content: Mapping[str, Any], schemas: Mapping[str, Any]) -> str:
    parts = []
    for media_type, media in content.items():
        schema = media.get("schema")
        if schema is None:
            parts.append(media_type)
            continue
        label = type_label(schema, schemas)
        if "$ref" in schema:  # a named schema: link its section under "Schemas"
            label = f"[`{label}`](#{anchor(label)})"
        parts.append(f"{label} ({media_type})")
    return "; ".join(parts)


def render_operation(
    method: str,
    path: str,
    operation: Mapping[str, Any],
    schemas: Mapping[str, Any],
    usual_errors: Mapping[str, str],
) -> str:
    from moderately.api.extensions import MARKER

    out = [f"### `{method.upper()} {path}`", ""]
    summary = operation.get("summary", "")
    out.append(f"{summary} (operation id `{operation.get('operationId', '')}`).")
    if MARKER in operation:
        out.append(
            f"Extension `{operation[MARKER]}` (see [Extensions](#extensions)): "
            "not in the published API."
        )
    if not operation.get("security"):
        out.append("No bearer token needed.")
    if operation.get("description"):
        out += ["", paragraphs(operation["description"])]
    parameters = operation.get("parameters", [])
    if parameters:
        rows = []
        for parameter in parameters:
            schema = parameter.get("schema", {})
            default = json_literal(schema["default"]) if "default" in schema else ""
            described = parameter.get("description") or schema.get("description", "")
            rows.append(
                (
                    code(parameter["name"]),
                    parameter["in"],
                    type_label(schema, schemas),
                    "yes" if parameter.get("required") else "",
                    default,
                    ", ".join(bounds(schema)),
                    described,
                )
            )
        header = ("parameter", "in", "type", "required", "default", "bounds", "description")
        out += ["", table(header, rows)]
    body = operation.get("requestBody")
    if body:
        content = body.get("content", {})
        line = f"Request body{'' if body.get('required') else ' (optional)'}: "
        line += body_label(content, schemas) + "."
        required: list[str] = []
        for media in content.values():
            target = resolve(media.get("schema", {}), schemas)
            required += [name for name in target.get("required", ()) if name not in required]
        if required:
            line += " Required fields: " + ", ".join(code(name) for name in required) + "."
        out += ["", line]
    out += ["", "Responses:", ""]
    errors: list[str] = []
    for status, response in operation.get("responses", {}).items():
        description = response.get("description", "")
        if is_error(status):
            errors.append(status)
            if description != usual_errors.get(status):
                out.append(f"- `{status}` (error envelope): {cell(description)}")
            continue
        content = response.get("content")
        line = f"- `{status}`: " + (body_label(content, schemas) if content else "no body")
        if description and description != "Successful Response":
            line += f". {cell(description)}"
        out.append(line)
    if errors:
        out.append("- errors, with the error envelope: " + ", ".join(code(s) for s in errors))
    return "\n".join(out)


def render_api(document: Mapping[str, Any]) -> str:
    schemas: Mapping[str, Any] = document.get("components", {}).get("schemas", {})
    usual_errors = error_descriptions(document)
    by_tag: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    for method, path, operation in operations(document):
        tag = (operation.get("tags") or ["Other"])[0]
        by_tag.setdefault(tag, []).append((method, path, operation))
    info = document.get("info", {})
    out = [
        "# REST API reference",
        "",
        "<!-- Generated by scripts/gen_docs.py (`make docs`); edit the code or "
        "docs/reference/templates/, not this file. -->",
        "",
        f"{info.get('title', '')} {info.get('version', '')}: "
        f"{sum(len(ops) for ops in by_tag.values())} operations ({extension_count(document)} of "
        "them in [extensions](#extensions)). The machine-readable document "
        "is [`openapi.json`](openapi.json) (also served by every server at `/openapi.json`).",
        "",
        template("api-preamble.md"),
        "",
        render_extensions(document),
        "",
        "## Error statuses",
        "",
        "Every error answer carries the error envelope. What each status means, unless an "
        "operation says otherwise:",
        "",
        table(("status", "meaning"), ((code(s), d) for s, d in usual_errors.items())),
        "",
        "## Operations",
        "",
    ]
    out += [f"- [{tag}](#{anchor(tag)})" for tag in by_tag]
    for tag, tagged in by_tag.items():
        out += ["", f"## {tag}"]
        for method, path, operation in tagged:
            out += ["", render_operation(method, path, operation, schemas, usual_errors)]
    out += ["", "## Schemas", "", "The request and response bodies named above."]
    for section in model_sections(sorted(schemas), schemas, "###"):
        out += ["", section]
    return "\n".join(out) + "\n"


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.lower()).replace(" ", "-")


# -- the pipeline engine ----------------------------------------------------------------------


def product_block_types() -> list[Any]:
    from moderately.engine import block_types

    return [b for b in block_types() if not b.type_name.startswith(TEST_TYPE_PREFIX)]


def block_sources(block_type: Any) -> str:
    """The source of the module defining a block type and of the sibling block modules it
    imports from (`from .embeddings import ...`): where its budgets and services are used."""
    module = sys.modules[type(block_type).__module__]
    texts = [inspect.getsource(module)]
    package = module.__name__.rsplit(".", 1)[0]
    for sibling in sorted(set(re.findall(r"^from \.(\w+) import", texts[0], re.MULTILINE))):
        texts.append(inspect.getsource(sys.modules[f"{package}.{sibling}"]))
    return "\n".join(texts)


def setting_name(field: str) -> str:
    return SETTINGS_PREFIX + field.upper()


def settings_table(names: Iterable[str]) -> str:
    """Environment variables and their defaults (docs/operators.md says what they do)."""
    from moderately.config import Settings

    rows = []
    for name in names:
        default = Settings.model_fields[name].default
        rows.append(
            (code(setting_name(name)), "unset" if default is None else json_literal(default))
        )
    return table(("setting", "default"), rows)


AI_GROUPS = ("chat models", "embedding models")


def ai_groups(sources: str) -> list[str]:
    """The AI services a block's code reaches (`ctx.ai.chat`, `ctx.ai.embeddings`)."""
    return [
        group
        for group, used in zip(AI_GROUPS, ("ai.chat", "ai.embeddings"), strict=True)
        if used in sources
    ]


def ai_settings_tables() -> str:
    """The settings of each AI service, once for every block that uses it."""
    from moderately.config import PROVIDER_SETTINGS, Settings

    providers = ", ".join(p.upper() for p in PROVIDER_SETTINGS)
    chat = [
        name
        for name in Settings.model_fields
        if name.startswith("llm_") or name == "default_llm_provider"
    ]
    return "\n".join(
        [
            "## AI settings",
            "",
            template("ai-preamble.md"),
            "",
            "Chat models: a provider is configured by its key or its base URL,"
            f" `{SETTINGS_PREFIX}<PROVIDER>_API_KEY` or `{SETTINGS_PREFIX}<PROVIDER>_BASE_URL`"
            f" with `<PROVIDER>` one of {providers} (all unset by default). Then:",
            "",
            settings_table(chat),
            "",
            "Embedding models:",
            "",
            settings_table(["embedding_model_dir"]),
        ]
    )


def budgets_used(sources: str) -> list[str]:
    from moderately.engine.budgets import Budgets

    return [item.name for item in fields(Budgets) if re.search(rf"\b{item.name}\b", sources)]


def render_ports(ports: Iterable[Any]) -> str:
    rows = [
        (
            code(port.name),
            port.kind,
            "yes" if port.required else "",
            "yes" if port.primary else "",
            "yes" if port.multi else "",
            ", ".join(code(alias) for alias in port.aliases),
        )
        for port in ports
    ]
    if not rows:
        return "None."
    return table(("port", "kind", "required", "primary", "multi", "aliases"), rows)


def render_block(block_type: Any) -> str:
    from moderately.engine import BlockType
    from moderately.engine.budgets import DEFAULT_BUDGETS, LABELS, SETTINGS, format_amount

    name = block_type.type_name
    ports = block_type.static_ports()
    out = [f"## `{name}`", "", paragraphs(block_type.description or "(no description)")]
    out += ["", "Input ports:", "", render_ports(ports.inputs)]
    notes = []
    if ports.dynamic_inputs:
        notes.append("Any other input port name is accepted too (optional, one connection).")
    if type(block_type).ports is not BlockType.ports:
        notes.append("More ports follow from the config; the tables list the declared ones.")
    if block_type.required_one_of:
        names = ", ".join(code(p) for p in block_type.required_one_of)
        notes.append(f"At least one of {names} must be connected.")
    if block_type.min_connections:
        notes.append(f"Needs at least {block_type.min_connections} incoming connection(s).")
    if not block_type.map_target:
        notes.append("Cannot be the target of a `map`.")
    if block_type.unique_name:
        field, error_type = block_type.unique_name
        notes.append(f"`{field}` must be unique among `{name}` blocks (else `{error_type}`).")
    if block_type.schema_fields:
        names = ", ".join(code(f) for f in block_type.schema_fields)
        notes.append(f"{names} must hold a valid JSON Schema (Draft 7).")
    out += ["", "Output ports:", "", render_ports(ports.outputs)]
    if notes:
        out += ["", *(f"- {note}" for note in notes)]

    schema = block_type.config_model.model_json_schema(mode="validation")
    defs = schema.get("$defs", {})
    out += [
        "",
        f"Config (`{block_type.config_model.__name__}`):",
        "",
        properties_table(schema, defs),
    ]
    for section in model_sections(sorted(defs), defs, "####", label="config: "):
        out += ["", section]

    sources = block_sources(block_type)
    used = budgets_used(sources)
    if used:
        rows = [
            (code(b), LABELS[b], format_amount(b, getattr(DEFAULT_BUDGETS, b)), code(SETTINGS[b]))
            for b in used
        ]
        out += ["", "Budgets it checks:", "", table(("budget", "what", "default", "setting"), rows)]
    groups = ai_groups(sources)
    if groups:
        links = " and ".join(f"[{group}](#ai-settings)" for group in groups)
        out += ["", f"Uses the server's {links}."]
    return "\n".join(out)


def render_configuration(schema: Mapping[str, Any]) -> str:
    defs: Mapping[str, Any] = schema.get("definitions", {})
    out = ["## The configuration document", "", template("configuration-preamble.md"), ""]
    out += ["Top level:", "", properties_table(schema, defs), ""]
    out += [
        "Each entry of `blocks` (keyed by block id):",
        "",
        properties_table(defs["Block"], defs),
    ]
    for name in ("Connection", "Metadata"):
        out += ["", f"`{name}`:", "", properties_table(defs[name], defs)]
    return "\n".join(out)


def render_engine_limits() -> str:
    from moderately.config import Settings
    from moderately.engine.budgets import DEFAULT_BUDGETS, LABELS, SETTINGS, format_amount

    rows = [
        (code(b), LABELS[b], format_amount(b, getattr(DEFAULT_BUDGETS, b)), code(SETTINGS[b]))
        for b in LABELS
    ]
    run_settings = [name for name in Settings.model_fields if name.startswith("pipeline_")]
    return "\n".join(
        [
            "## Budgets and run settings",
            "",
            template("budgets-preamble.md"),
            "",
            table(("budget", "what", "default", "setting"), rows),
            "",
            "Settings of every pipeline run:",
            "",
            settings_table(run_settings),
        ]
    )


def render_blocks(schema: Mapping[str, Any]) -> str:
    from moderately.engine import SPEC_BLOCK_TYPES

    by_name = {block_type.type_name: block_type for block_type in product_block_types()}
    order = [*SPEC_BLOCK_TYPES, *sorted(set(by_name) - set(SPEC_BLOCK_TYPES))]
    out = [
        "# Pipeline blocks reference",
        "",
        "<!-- Generated by scripts/gen_docs.py (`make docs`); edit the code or "
        "docs/reference/templates/, not this file. -->",
        "",
        template("blocks-preamble.md"),
        "",
        render_configuration(schema),
        "",
        render_engine_limits(),
        "",
        ai_settings_tables(),
        "",
        "## Block types",
        "",
        " · ".join(f"[`{name}`](#{anchor(name)})" for name in order),
    ]
    for name in order:
        block_type = by_name.get(name)
        if block_type is None:
            out += ["", f"## `{name}`", "", "Not available on this server yet."]
        else:
            out += ["", render_block(block_type)]
    return "\n".join(out) + "\n"


# -- files ------------------------------------------------------------------------------------


def dump_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generate() -> dict[str, str]:
    """Every file of docs/reference/ (name to text)."""
    from moderately.engine import configuration_json_schema

    document = openapi_document()
    schema = configuration_json_schema(b.type_name for b in product_block_types())
    return {
        "api.md": render_api(document),
        "openapi.json": dump_json(document),
        "blocks.md": render_blocks(schema),
        "pipeline-configuration.schema.json": dump_json(schema),
    }


def stale_files(directory: Path, files: Mapping[str, str]) -> list[str]:
    """Names whose text in `directory` differs from `files` (or is missing)."""
    stale = []
    for name, text in files.items():
        path = directory / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REFERENCE, help="directory to write")
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args(argv)
    files = generate()
    if args.check:
        stale = stale_files(args.out, files)
        for name in stale:
            print(f"{args.out / name} is stale: run make docs", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (args.out / name).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

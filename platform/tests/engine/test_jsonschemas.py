"""User-supplied JSON Schemas: only local references, no retrieval, no endless recursion, bounds.

A schema reaches the engine in the `json_schema` of `input`, `output` and `artifact` blocks; the
rules are checked when a configuration is validated (`invalid_json_schema`), and a validator
built from a schema that breaks them anyway refuses to apply it instead of fetching or recursing.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from engine_helpers import document, entry
from loopback import Loopback

from moderately.engine.jsonschemas import (
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    schema_problems,
    validator_for,
)
from moderately.engine.validate import validate_configuration

ONLY_LOCAL = "is not allowed: only local references (#/...) are resolved"


def one_problem(schema: Any) -> str:
    problems = schema_problems(schema)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_loopback_listener_counts_connections() -> None:
    listener = Loopback()
    with listener, socket.create_connection(("127.0.0.1", listener.port), timeout=5) as connection:
        connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert connection.recv(100).startswith(b"HTTP/1.0 200")
    assert listener.connections == 1


@pytest.mark.parametrize(
    "place",
    [
        lambda ref: {"$ref": ref},
        lambda ref: {"properties": {"a": {"$ref": ref}}},
        lambda ref: {"definitions": {"unused": {"$ref": ref}}},  # never reached, still refused
        lambda ref: {"$ref": "#/definitions/ok", "definitions": {"ok": {}}, "not": {"$ref": ref}},
        lambda ref: {"x-extension": {"items": [{"$ref": ref}]}},
    ],
)
def test_a_remote_ref_is_refused_wherever_it_is_and_nothing_connects(place: Any) -> None:
    with Loopback() as listener:
        ref = listener.url("/schema.json")
        schema = place(ref)
        problem = one_problem(schema)
        assert problem.endswith(f"$ref '{ref}' {ONLY_LOCAL}")
        for block_type in ("input", "output", "artifact"):
            report = validate_configuration(
                document(entry("b", block_type, {"json_schema": schema}))
            )
            [error] = [e for e in report.errors if e.error_type == "invalid_json_schema"]
            assert error.block_id == "b"
            assert ref in error.message
        # Built anyway (validation skipped): refuses to apply, never retrieves.
        [(_, message, _)] = validator_for(schema).problems({"a": "x"})
        assert message.startswith("the schema cannot be applied") and ref in message
    assert listener.connections == 0


@pytest.mark.parametrize(
    "ref",
    [
        "https://example.com/schema.json",
        "file:///etc/passwd",
        "other.json",
        "other.json#/definitions/a",
        "/absolute/path.json",
        "#anchor",
        "urn:example:schema",
        "http://json-schema.org/draft-07/schema#",  # known to jsonschema, still not local
    ],
)
def test_every_non_local_ref_is_refused(ref: str) -> None:
    assert one_problem({"properties": {"a": {"$ref": ref}}}) == (
        f"/properties/a/$ref: $ref '{ref}' {ONLY_LOCAL}"
    )


def test_a_file_ref_never_leaks_the_file(tmp_path: Path) -> None:
    secret = "s3cr3t-" + tmp_path.name
    target = tmp_path / "secret.json"
    target.write_text('{"type": "string", "description": "' + secret + '"}')
    schema = {"properties": {"a": {"$ref": target.as_uri()}}}
    problems = schema_problems(schema)
    assert problems and all(secret not in problem for problem in problems)
    assert secret not in repr(validator_for(schema).problems({"a": 1}))


def test_id_below_the_root_is_refused_and_the_root_id_is_harmless() -> None:
    with Loopback() as listener:
        base = listener.url("/base/")
        nested = {
            "properties": {"a": {"$id": base, "$ref": "#/definitions/x"}},
            "definitions": {"x": {}},
        }
        assert one_problem(nested).startswith(f"/properties/a/$id: $id '{base}' is not allowed")
        rooted = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": base + "root.json",
            "properties": {"a": {"$ref": "#/definitions/word"}, "self": {"$ref": "#"}},
            "definitions": {"word": {"type": "string", "pattern": "^(a|aa)+$"}},
        }
        assert schema_problems(rooted) == []
        validator = validator_for(rooted)
        assert validator.is_valid({"a": "aaa", "self": {"a": "a"}})
        assert [where for where, _, _ in validator.problems({"self": {"a": "a" * 99 + "!"}})] == [
            "/self/a"
        ]
    assert listener.connections == 0


def test_schema_below_the_root_is_refused() -> None:
    schema = {"properties": {"a": {"$schema": "https://json-schema.org/draft/2020-12/schema"}}}
    assert one_problem(schema) == (
        "/properties/a/$schema: $schema is only allowed at the root of a schema"
    )
    # ... but a property named $schema is just a property.
    assert schema_problems({"properties": {"$schema": {"type": "string"}}}) == []


@pytest.mark.parametrize(
    "schema, value, valid",
    [
        (
            {"definitions": {"n": {"type": "integer"}}, "items": {"$ref": "#/definitions/n"}},
            [1],
            True,
        ),
        (
            {"definitions": {"n": {"type": "integer"}}, "items": {"$ref": "#/definitions/n"}},
            ["x"],
            False,
        ),
        ({"$defs": {"n": {"type": "integer"}}, "$ref": "#/$defs/n"}, 1, True),
        ({"definitions": {"a/b": {"const": 1}}, "$ref": "#/definitions/a~1b"}, 2, False),
        ({"definitions": {"a b": {"const": 1}}, "$ref": "#/definitions/a%20b"}, 1, True),
        ({"items": [{"type": "integer"}], "additionalItems": {"$ref": "#/items/0"}}, [1, 2], True),
        (
            {"items": [{"type": "integer"}], "additionalItems": {"$ref": "#/items/0"}},
            [1, ""],
            False,
        ),
    ],
)
def test_local_refs_resolve(schema: dict[str, Any], value: Any, valid: bool) -> None:
    assert schema_problems(schema) == []
    assert validator_for(schema).is_valid(value) is valid


@pytest.mark.parametrize(
    "schema, problem",
    [
        (
            {"$ref": "#/definitions/missing"},
            "/$ref: $ref '#/definitions/missing' points to nothing",
        ),
        ({"items": [{}], "$ref": "#/items/3"}, "/$ref: $ref '#/items/3' points to nothing"),
        ({"title": "t", "$ref": "#/title"}, "/$ref: $ref '#/title' does not point to a schema"),
    ],
)
def test_dangling_local_refs_are_refused(schema: dict[str, Any], problem: str) -> None:
    assert one_problem(schema).startswith(problem)


TREE = {
    "definitions": {
        "node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/definitions/node"}},
            },
            "required": ["name"],
        }
    },
    "$ref": "#/definitions/node",
}


def test_recursion_that_descends_into_the_value_is_fine() -> None:
    assert schema_problems(TREE) == []
    validator = validator_for(TREE)
    tree = {"name": "root", "children": [{"name": "a", "children": [{"name": "b"}]}]}
    assert validator.is_valid(tree)
    [(where, _, _)] = validator.problems({"name": "r", "children": [{"children": []}]})
    assert where == "/children/0"


@pytest.mark.parametrize(
    "schema, shown",
    [
        ({"$ref": "#"}, "# -> #"),
        ({"allOf": [{"$ref": "#"}]}, "# -> #/allOf/0 -> #"),
        ({"anyOf": [{"type": "string"}, {"not": {"$ref": "#"}}]}, "#/anyOf/1/not -> #"),
        (
            {
                "definitions": {"a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}},
                "properties": {"x": {"$ref": "#/definitions/a"}},
            },
            "#/definitions/a -> #/definitions/b -> #/definitions/a",
        ),
        ({"if": {"$ref": "#"}}, "#/if -> #"),
        ({"dependencies": {"a": {"$ref": "#"}}}, "#/dependencies/a -> #"),
    ],
)
def test_ref_cycles_that_never_descend_are_refused(schema: dict[str, Any], shown: str) -> None:
    problem = one_problem(schema)
    assert "$ref cycle" in problem and shown in problem
    report = validate_configuration(document(entry("in", "input", {"json_schema": schema})))
    assert [e.error_type for e in report.errors] == ["invalid_json_schema"]
    # Built anyway: reports instead of recursing until Python gives up.
    validator = validator_for(schema)
    assert validator.is_valid("x") is False
    [(_, message, _)] = validator.problems({"a": 1})
    assert message.startswith("the schema cannot be applied") and "$ref cycle" in message


def test_a_value_nested_deeper_than_python_recurses_is_a_problem_not_a_crash() -> None:
    validator = validator_for({"items": {"$ref": "#"}})
    value: Any = 1
    for _ in range(5_000):
        value = [value]
    assert validator.is_valid(value) is False
    [(_, message, _)] = validator.problems(value)
    assert message == "the schema cannot be applied: the value is nested too deeply"


def test_depth_and_size_are_bounded() -> None:
    deep: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_SCHEMA_DEPTH):
        deep = {"not": deep}
    assert one_problem(deep) == (
        f"(root): the schema is nested too deeply (more than {MAX_SCHEMA_DEPTH} levels)"
    )
    shallow: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_SCHEMA_DEPTH - 2):
        shallow = {"not": shallow}
    assert schema_problems(shallow) == []
    big = {"enum": list(range(MAX_SCHEMA_NODES))}
    assert one_problem(big) == (
        f"(root): the schema is too large (more than {MAX_SCHEMA_NODES} values)"
    )
    report = validate_configuration(document(entry("in", "input", {"json_schema": big})))
    assert [e.error_type for e in report.errors] == ["invalid_json_schema"]
    [(_, message, _)] = validator_for(big).problems(1)
    assert "too large" in message


def test_data_keywords_are_not_schemas() -> None:
    schema = {
        "enum": [{"$ref": "http://example.com/x"}],
        "const": {"$schema": "x", "$id": "http://example.com/"},
        "default": {"pattern": "(a)\\1"},
        "examples": [{"$ref": "file:///etc/passwd"}],
    }
    assert schema_problems(schema) == []
    # ... unless a $ref makes one a schema.
    schema["items"] = {"$ref": "#/examples/0"}
    assert one_problem(schema).startswith("/examples/0/$ref: $ref 'file:///etc/passwd'")


def test_problems_are_capped() -> None:
    schema = {"properties": {str(n): {"$ref": f"http://h/{n}"} for n in range(50)}}
    problems = schema_problems(schema)
    assert len(problems) == 21 and problems[-1] == "(and 30 more problems)"

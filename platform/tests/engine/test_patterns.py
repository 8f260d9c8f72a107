"""User-supplied regular expressions run on RE2: transform filters and JSON Schema patterns.

The patterns below backtrack catastrophically in Python's `re` (seconds to hours on these
inputs); with RE2 they are linear. The tests check results: a regression to a backtracking
engine would show up as a test run that never ends.
"""

from __future__ import annotations

from typing import Any

import pytest
from engine_helpers import document, entry, inp, out, run_block

from moderately.engine import InvalidPipelineInput, compile_pipeline, prepare_inputs
from moderately.engine.jsonschemas import SafeDraft7Validator, schema_problems, validator_for
from moderately.engine.patterns import (
    MAX_PATTERN_LENGTH,
    PatternError,
    compile_pattern,
    pattern_problem,
    search,
)
from moderately.engine.validate import validate_configuration

pytestmark = pytest.mark.anyio

LONG = 5_000
# (pattern, texts that match, texts that do not)
HOSTILE: list[tuple[str, list[str], list[str]]] = [
    ("(a+)+$", ["a" * LONG, "b" + "a" * 3], ["a" * LONG + "b", "a" * 27 + "!"]),
    ("(x+x+)+y", ["x" * LONG + "y", "xxy"], ["x" * LONG, "x" * 30]),
    ("^(a|aa)+$", ["a" * LONG, "aa"], ["a" * LONG + "!", "a" * 40 + "b"]),
]


@pytest.mark.parametrize("pattern, matching, other", HOSTILE)
def test_hostile_patterns_are_linear_and_right(
    pattern: str, matching: list[str], other: list[str]
) -> None:
    assert [search(pattern, text) for text in matching] == [True] * len(matching)
    assert [search(pattern, text) for text in other] == [False] * len(other)


@pytest.mark.parametrize("pattern, matching, other", HOSTILE)
async def test_transform_regex_filter_on_hostile_patterns(
    pattern: str, matching: list[str], other: list[str]
) -> None:
    rows = [{"id": index, "text": text} for index, text in enumerate([*other, *matching])]
    operation = {"type": "filter", "field": "text", "operator": "regex", "value": pattern}
    result = await run_block("transform", {"operations": [operation]}, {"data": rows})
    assert [row["text"] for row in result["data"]] == matching


@pytest.mark.parametrize("pattern, matching, other", HOSTILE)
def test_schema_pattern_on_hostile_patterns(
    pattern: str, matching: list[str], other: list[str]
) -> None:
    validator = validator_for({"type": "string", "pattern": pattern})
    assert all(validator.is_valid(text) for text in matching)
    for text in other:
        [(where, message, _)] = validator.problems(text)
        assert where == "" and message.endswith(f"does not match {pattern!r}")


@pytest.mark.parametrize("pattern, matching, other", HOSTILE)
def test_pattern_properties_and_additional_properties_use_re2(
    pattern: str, matching: list[str], other: list[str]
) -> None:
    schema = {
        "type": "object",
        "patternProperties": {pattern: {"type": "integer"}},
        "additionalProperties": {"type": "string"},
    }
    validator = validator_for(schema)
    good = {**{name: 1 for name in matching}, **{name: "s" for name in other}}
    assert validator.problems(good) == []
    bad = {matching[0]: "not an integer", other[0]: 2}
    assert sorted(where for where, _, _ in validator.problems(bad)) == sorted(
        [f"/{matching[0]}", f"/{other[0]}"]
    )
    closed = validator_for({"patternProperties": {pattern: {}}, "additionalProperties": False})
    [(_, message, _)] = closed.problems({matching[1]: 0, other[1]: 0})
    assert "does not match any of the regexes" in message and repr(other[1]) in message


def test_input_schema_pattern_when_an_execution_is_prepared() -> None:
    plan = compile_pipeline(
        document(
            inp("word", {"type": "string", "pattern": "^(a|aa)+$"}),
            out(),
            connections=[
                {
                    "source_block_id": "word",
                    "source_port": "data",
                    "target_block_id": "out",
                    "target_port": "data",
                }
            ],
        )
    )
    assert prepare_inputs(plan, {"word": "a" * LONG}) == {"word": "a" * LONG}
    with pytest.raises(InvalidPipelineInput) as caught:
        prepare_inputs(plan, {"word": "a" * LONG + "!"})
    [detail] = caught.value.details
    assert detail["field"] == "word" and "does not match '^(a|aa)+$'" in detail["message"]


def test_format_regex_checks_use_re2() -> None:
    formats = SafeDraft7Validator.FORMAT_CHECKER
    assert formats.conforms("(a+)+$", "regex")
    assert not formats.conforms(r"(a)\1", "regex")
    assert not formats.conforms("(?<=a)b", "regex")


REFUSED = [
    (r"(a)\1", "invalid escape sequence: \\1"),  # backreference
    ("(?=a)b", "invalid perl operator"),  # lookahead
    ("(?<!a)b", "invalid perl operator"),  # lookbehind
    ("(", "missing )"),
    ("a" * (MAX_PATTERN_LENGTH + 1), f"at most {MAX_PATTERN_LENGTH}"),
]


@pytest.mark.parametrize("pattern, reason", REFUSED)
def test_refused_patterns_say_why(pattern: str, reason: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None and reason in problem
    assert pattern[:40] in problem
    with pytest.raises(PatternError):
        compile_pattern(pattern)


def test_a_pattern_at_the_length_limit_is_fine() -> None:
    assert pattern_problem("a" * MAX_PATTERN_LENGTH) is None


@pytest.mark.parametrize("pattern, reason", REFUSED)
def test_transform_regex_refused_at_validation(pattern: str, reason: str) -> None:
    operation = {"type": "filter", "field": "text", "operator": "regex", "value": pattern}
    report = validate_configuration(document(entry("t", "transform", {"operations": [operation]})))
    [error] = [e for e in report.errors if e.error_type == "invalid_transform_operation"]
    assert error.block_id == "t" and error.block_type == "transform"
    assert error.message.startswith("config.operations.0") and reason in error.message
    assert pattern[:40] in error.message


@pytest.mark.parametrize("pattern, reason", REFUSED)
@pytest.mark.parametrize("place", ["pattern", "patternProperties", "nested"])
def test_schema_pattern_refused_at_validation(pattern: str, reason: str, place: str) -> None:
    schema: dict[str, Any]
    if place == "pattern":
        schema, where = {"type": "string", "pattern": pattern}, "/pattern"
    elif place == "patternProperties":
        schema, where = {"patternProperties": {pattern: {}}}, "/patternProperties/"
    else:
        schema = {"definitions": {"word": {"items": [{"pattern": pattern}]}}}
        where = "/definitions/word/items/0/pattern"
    [problem] = schema_problems(schema)
    assert problem.startswith(where) and reason in problem
    for block_type in ("input", "output", "artifact"):
        report = validate_configuration(document(entry("b", block_type, {"json_schema": schema})))
        [error] = [e for e in report.errors if e.error_type == "invalid_json_schema"]
        assert error.block_id == "b" and error.message.startswith(f"config.json_schema: {where}")
        assert pattern[:40] in error.message


def test_many_distinct_patterns_are_refused() -> None:
    schema = {"properties": {str(n): {"pattern": f"^{n}$"} for n in range(101)}}
    problems = schema_problems(schema)
    assert any("too many patterns (more than 100)" in problem for problem in problems)
    assert schema_problems({"properties": {str(n): {"pattern": "^x$"} for n in range(500)}}) == []


def test_lone_surrogates_neither_crash_nor_match_wrongly() -> None:
    assert search("^.$", "\ud800")
    assert pattern_problem("\ud800") is not None
    assert validator_for({"pattern": "^a"}).problems("\ud800")

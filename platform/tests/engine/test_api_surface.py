"""The package surface: exports, the RunContext protocol, storage normalisation."""

from __future__ import annotations

import moderately.engine as engine
from moderately.engine import RunContext, normalize_for_storage
from moderately.engine.testing import InMemoryContext


def test_exports_match_public_names() -> None:
    public = {name for name in vars(engine) if not name.startswith("_")}
    modules = {
        "blocks",
        "bounded",
        "budgets",
        "config",
        "context",
        "cooperative",
        "errors",
        "execute",
        "jsonschemas",
        "patterns",
        "plan",
        "ports",
        "progress",
        "registry",
        "report",
        "schema",
        "sections",
        "tables",
        "templating",
        "testing",
        "validate",
        "values",
        "verbatim",
    }
    assert set(engine.__all__) == public - modules
    assert sorted(engine.__all__, key=str.lower) == sorted(set(engine.__all__), key=str.lower)


def test_in_memory_context_is_a_run_context() -> None:
    assert isinstance(InMemoryContext(), RunContext)


def test_engine_imports_no_server_layers() -> None:
    import subprocess
    import sys

    code = (
        "import sys, moderately.engine, moderately.engine.testing;"
        "from moderately.engine import block_types; list(block_types());"
        "bad = [m for m in sys.modules if m.startswith(('moderately.db', 'moderately.api',"
        " 'moderately.storage', 'moderately.services', 'moderately.workers', 'sqlalchemy',"
        " 'fastapi'))];"
        "print(','.join(bad))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert output == ""


def test_normalize_for_storage() -> None:
    submitted = {"id": "p", "name": "n", "blocks": {}, "pipeline_config": {"x": 1}}
    stored = normalize_for_storage(submitted)
    assert stored == {
        "id": "p",
        "name": "n",
        "blocks": {},
        "pipeline_config": {"x": 1},
        "connections": [],
        "version": "1.0.0",
    }
    assert "connections" not in submitted
    kept = normalize_for_storage({**submitted, "connections": [], "version": "2.0.0"})
    assert kept["version"] == "2.0.0"

"""docs/reference/ is generated from the code (`make docs`): the committed files must match."""

from __future__ import annotations

import difflib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
GENERATOR = ROOT / "scripts" / "gen_docs.py"


def generated_files(directory: Path) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8") for path in directory.glob("*.*")}


def first_difference(name: str, committed: str, fresh: str) -> str:
    diff = difflib.unified_diff(
        committed.splitlines(),
        fresh.splitlines(),
        f"committed/{name}",
        f"fresh/{name}",
        lineterm="",
    )
    return "\n".join(list(diff)[:20])


def test_committed_reference_matches_the_code(tmp_path: Path) -> None:
    # A process of its own: the tests' block types registered in this one are not the product's.
    subprocess.run(
        [sys.executable, str(GENERATOR), "--out", str(tmp_path)], check=True, timeout=300
    )
    fresh = generated_files(tmp_path)
    assert {"api.md", "blocks.md", "openapi.json"} <= set(fresh)
    committed = generated_files(REFERENCE)
    assert set(committed) == set(fresh), "docs/reference/ has other files than make docs writes"
    stale = [name for name in sorted(fresh) if committed[name] != fresh[name]]
    details = "\n\n".join(first_difference(name, committed[name], fresh[name]) for name in stale)
    assert not stale, f"docs/reference/{', '.join(stale)} out of date: run make docs\n{details}"


def test_reference_leaves_out_the_tests_block_types() -> None:
    """In this process conftest.py has registered the tests' own block types: the reference made
    here still lists only the product's (the same as the committed one)."""
    import importlib.util

    from block_plugins import SLEEP

    from moderately.engine import SPEC_BLOCK_TYPES, find_block_type

    assert find_block_type(SLEEP) is not None
    spec = importlib.util.spec_from_file_location("gen_docs", GENERATOR)
    assert spec is not None and spec.loader is not None
    gen_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_docs)
    files = gen_docs.generate()
    assert f"`{SLEEP}`" not in files["blocks.md"]
    block_enum = json.loads(files["pipeline-configuration.schema.json"])["definitions"]["Block"]
    assert sorted(block_enum["properties"]["type"]["enum"]) == sorted(SPEC_BLOCK_TYPES)
    assert files["blocks.md"] == (REFERENCE / "blocks.md").read_text(encoding="utf-8")

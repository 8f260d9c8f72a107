"""Fixtures for moderately.tabular tests: data files written byte-exact into tmp_path."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

WriteFile = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> WriteFile:
    """``write(content, name="data.csv", encoding="utf-8")``: str is encoded as given (no newline
    translation), bytes are written as they are."""

    def _write(content: str | bytes, name: str = "data.csv", encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return _write

"""Engine test fixtures: an in-memory run context and the probe block type."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import engine_helpers
import pytest

from moderately.engine.registry import block, unregister
from moderately.engine.testing import InMemoryContext

DATA = Path(__file__).parent / "data"


@pytest.fixture
def ctx() -> InMemoryContext:
    return InMemoryContext()


@pytest.fixture
def probe_log() -> Iterator[engine_helpers.ProbeLog]:
    """Registers the `test_probe` block type for one test; yields its log."""
    engine_helpers.LOG.__init__()  # type: ignore[misc]
    block(engine_helpers.PROBE)(engine_helpers.Probe)
    try:
        yield engine_helpers.LOG
    finally:
        unregister(engine_helpers.PROBE)


@pytest.fixture
def pdf_bytes() -> bytes:
    return (DATA / "employment_agreement.pdf").read_bytes()

"""pdf_reader budgets: decompression bombs (Flate, nested Flate, RunLength, LZW), page count,
extracted text and layout objects per page. Bombs are built in the test and must fail without
the reader allocating what they inflate to."""

from __future__ import annotations

import tracemalloc
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from engine_helpers import assert_completed, conn, document, entry, inp, out, run
from pdf_builder import build_pdf, deflate_zeros, lzw_zeros, text_content
from pdfminer import pdftypes

from moderately.engine import Budgets, ResourceLimitError
from moderately.engine.blocks.pdf_reader import _Stopped, read_pdf
from moderately.engine.budgets import SETTINGS, MiB
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio

BOMB_SIZE = 200 * MiB


@pytest.fixture(scope="module")
def flate_bomb() -> bytes:
    """200 MiB of zeros, deflated to about 200 KB."""
    return deflate_zeros(BOMB_SIZE)


def peak_memory(action: Callable[[], Any]) -> tuple[BaseException | None, int]:
    """The exception `action()` raised (or None) and the peak of traced memory meanwhile."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        try:
            action()
        except BaseException as exc:
            failure: BaseException | None = exc
        else:
            failure = None
        return failure, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def assert_inflation_error(failure: BaseException | None, limit: str) -> None:
    assert isinstance(failure, ResourceLimitError), failure
    assert failure.error_type == "resource_limit"
    assert failure.budget == "pdf_max_inflated_bytes"
    assert failure.message.startswith("the PDF's streams decompress to at least")
    assert failure.message.endswith(
        f"over the PDF decompression budget of {limit} (MODERATELY_JOB_PDF_MAX_INFLATED_BYTES)"
    )


def reader_pipeline() -> dict[str, Any]:
    return document(
        inp("pdf", {"type": "string"}),
        entry("reader", "pdf_reader"),
        out("text"),
        connections=[conn("pdf", "reader", "data", "file_id"), conn("reader", "text")],
    )


async def test_flate_bomb_fails_in_the_pipeline_without_inflating(flate_bomb: bytes) -> None:
    pdf = build_pdf(raw_streams=[flate_bomb], filters="/FlateDecode")
    assert len(pdf) < 300_000
    ctx = InMemoryContext()
    file = ctx.add_file(pdf, file_name="bomb.pdf", mime_type="application/pdf")
    budgets = Budgets(pdf_max_inflated_bytes=16 * MiB)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = await run(reader_pipeline(), {"pdf": file.file_id}, ctx, budgets=budgets)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.status == "failed"
    data = result.progress_data
    assert data["error_type"] == "resource_limit" and data["failed_block"] == "reader"
    assert data["error"].startswith(
        "Block 'reader' (pdf_reader) failed: the PDF's streams decompress to at least "
    )
    assert data["error"].endswith(
        "over the PDF decompression budget of 16.0 MiB (MODERATELY_JOB_PDF_MAX_INFLATED_BYTES)"
    )
    assert SETTINGS["pdf_max_inflated_bytes"] in data["error"]
    # the stream inflates to 200 MiB; it is measured a slice at a time and never kept
    assert peak < 8 * MiB, peak


def test_flate_bomb_with_default_budgets_stops_at_256_mib() -> None:
    pdf = build_pdf(raw_streams=[deflate_zeros(300 * MiB)], filters="/FlateDecode")
    failure, peak = peak_memory(lambda: read_pdf(pdf))
    assert_inflation_error(failure, "256.0 MiB")
    assert peak < 8 * MiB, peak


def test_nested_flate_bomb(flate_bomb: bytes) -> None:
    # deflated twice: the first layer is small, the second inflates to 200 MiB
    pdf = build_pdf(raw_streams=[zlib.compress(flate_bomb)], filters="[/FlateDecode /FlateDecode]")
    assert len(pdf) < 10_000
    failure, peak = peak_memory(lambda: read_pdf(pdf, Budgets(pdf_max_inflated_bytes=8 * MiB)))
    assert_inflation_error(failure, "8.0 MiB")
    assert peak < 8 * MiB, peak


def test_runlength_bomb_is_measured_before_decoding() -> None:
    runs = bytes([129, 32]) * 200_000 + b"\x80"  # 400 KB -> 25.6 MB of spaces
    pdf = build_pdf(raw_streams=[runs], filters="/RunLengthDecode")
    failure, peak = peak_memory(lambda: read_pdf(pdf, Budgets(pdf_max_inflated_bytes=MiB)))
    assert_inflation_error(failure, "1.0 MiB")
    assert peak < 16 * MiB, peak  # pdfminer's decoder would hold a 25.6M-int list


def test_lzw_bomb_stops_at_the_budget() -> None:
    data = lzw_zeros(400)  # 114 KB -> 12.7 MB
    pdf = build_pdf(raw_streams=[data], filters="/LZWDecode")
    failure, _ = peak_memory(lambda: read_pdf(pdf, Budgets(pdf_max_inflated_bytes=MiB)))
    assert_inflation_error(failure, "1.0 MiB")


def test_streams_under_the_budget_decode_as_before() -> None:
    contents = [text_content("Hello compressed world"), text_content("Second page")]
    pdf = build_pdf(contents, flate=True)
    budget = sum(len(content) for content in contents)  # exactly what they inflate to
    pages, metadata = read_pdf(pdf, Budgets(pdf_max_inflated_bytes=budget))
    assert pages == ["Hello compressed world", "Second page"]
    assert metadata["page_count"] == 2
    with pytest.raises(ResourceLimitError):
        read_pdf(pdf, Budgets(pdf_max_inflated_bytes=budget - 1))
    runs = bytes([129, 32]) * 1000 + b"\x80"  # 128,000 spaces: a blank page
    assert read_pdf(build_pdf(raw_streams=[runs], filters="/RunLengthDecode"))[0] == [""]
    lzw_page = build_pdf(raw_streams=[lzw_zeros(1)], filters="/LZWDecode")
    assert read_pdf(lzw_page, Budgets(pdf_max_inflated_bytes=31_878))[0] == [""]


def test_damaged_stream_still_goes_through_pdfminers_repair_path() -> None:
    truncated = zlib.compress(text_content("Hello truncated"))[:-4]  # no checksum
    pdf = build_pdf(raw_streams=[truncated], filters="/FlateDecode")
    assert read_pdf(pdf, Budgets(pdf_max_inflated_bytes=1000))[0] == ["Hello truncated"]


def test_guards_are_plain_zlib_outside_a_read() -> None:
    data = zlib.compress(b"x" * 100_000)
    assert pdftypes.zlib.decompress(data) == b"x" * 100_000
    assert pdftypes.zlib.error is zlib.error
    with pytest.raises(zlib.error):
        pdftypes.zlib.decompress(data[:-10])


def test_page_count_budget() -> None:
    pdf = build_pdf([text_content(f"page {number}") for number in range(1, 31)])
    with pytest.raises(ResourceLimitError) as raised:
        read_pdf(pdf, Budgets(pdf_max_pages=25))
    assert raised.value.message == (
        "the PDF has more than 25 pages, over the PDF page budget of 25 "
        "(MODERATELY_JOB_PDF_MAX_PAGES)"
    )
    pages, metadata = read_pdf(pdf, Budgets(pdf_max_pages=30))
    assert metadata["page_count"] == 30 and pages[29] == "page 30"


def test_page_count_bomb_with_default_budgets() -> None:
    pdf = build_pdf([b""] * 2001)
    with pytest.raises(ResourceLimitError) as raised:
        read_pdf(pdf)
    assert "more than 2,000 pages" in raised.value.message
    assert raised.value.setting == "MODERATELY_JOB_PDF_MAX_PAGES"


def test_text_budget() -> None:
    pdf = build_pdf([text_content("Hello world")] * 3)  # 11 bytes a page, 2 between pages
    with pytest.raises(ResourceLimitError) as raised:
        read_pdf(pdf, Budgets(pdf_max_text_bytes=36))
    assert raised.value.message == (
        "the text of pages 1-3 is at least 37 B, over the PDF text budget of 36 B "
        "(MODERATELY_JOB_PDF_MAX_TEXT_BYTES)"
    )
    assert read_pdf(pdf, Budgets(pdf_max_text_bytes=37))[0] == ["Hello world"] * 3


def test_page_object_budget() -> None:
    dense = "abcdefghij" * 300  # 3,000 characters on one line
    pdf = build_pdf([text_content("short"), text_content(dense, size=1)])
    with pytest.raises(ResourceLimitError) as raised:
        read_pdf(pdf, Budgets(pdf_max_page_objects=2999))
    assert raised.value.message == (
        "page 2 has more than 2,999 characters, path segments and images, over the PDF page "
        "object budget of 2,999 (MODERATELY_JOB_PDF_MAX_PAGE_OBJECTS)"
    )
    pages, _ = read_pdf(pdf, Budgets(pdf_max_page_objects=3000))
    assert pages == ["short", dense]


def test_path_segments_count_as_page_objects() -> None:
    path = b"0 0 m " + b"10 10 l " * 500 + b"S"
    pdf = build_pdf([path])
    with pytest.raises(ResourceLimitError):
        read_pdf(pdf, Budgets(pdf_max_page_objects=400))
    assert read_pdf(pdf, Budgets(pdf_max_page_objects=600))[0] == [""]


def test_extraction_stops_when_the_run_is_stopping() -> None:
    pdf = build_pdf([text_content("one"), text_content("two")])
    with pytest.raises(_Stopped):
        read_pdf(pdf, stop=lambda: True)


async def test_example_pdf_within_tight_budgets(pdf_bytes: bytes) -> None:
    ctx = InMemoryContext()
    file = ctx.add_file(pdf_bytes, mime_type="application/pdf")
    budgets = Budgets(pdf_max_pages=9, pdf_max_text_bytes=20_000, pdf_max_page_objects=5_000)
    result = await run(reader_pipeline(), {"pdf": file.file_id}, ctx, budgets=budgets)
    assert_completed(result)
    result = await run(
        reader_pipeline(), {"pdf": file.file_id}, ctx, budgets=Budgets(pdf_max_pages=8)
    )
    assert result.status == "failed" and result.error_type == "resource_limit"
    assert "MODERATELY_JOB_PDF_MAX_PAGES" in (result.error or "")


def test_a_path_of_several_subpaths_is_counted_once() -> None:
    subpath = b"0 0 m " + b"10 10 l " * 99  # 100 segments
    pdf = build_pdf([subpath * 5 + b"S"])  # one path of 500 segments in 5 subpaths
    assert read_pdf(pdf, Budgets(pdf_max_page_objects=500))[0] == [""]
    with pytest.raises(ResourceLimitError):
        read_pdf(pdf, Budgets(pdf_max_page_objects=499))

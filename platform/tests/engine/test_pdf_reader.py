"""pdf_reader on example 04's employment agreement, and its failure modes."""

from __future__ import annotations

import pytest
from engine_helpers import assert_completed, conn, document, entry, inp, out, run, run_block
from pdf_builder import build_pdf

from moderately.engine import BlockError
from moderately.engine.testing import InMemoryContext

pytestmark = pytest.mark.anyio


async def test_employment_agreement(pdf_bytes: bytes) -> None:
    ctx = InMemoryContext()
    pdf = ctx.add_file(pdf_bytes, file_name="employment_agreement.pdf", mime_type="application/pdf")
    outputs = await run_block("pdf_reader", {}, {"file_id": pdf.file_id}, ctx)
    pages = outputs["pages"]
    assert len(pages) == 9
    assert [page["page_number"] for page in pages] == list(range(1, 10))
    text = outputs["text"]
    assert 13_000 < len(text) < 17_000
    assert text == "\n\n".join(page["text"] for page in pages)
    assert "THIS AGREEMENT made this 3rd day of" in pages[0]["text"]
    assert "John Smith" in text and "ACME Inc." in text
    assert outputs["metadata"] == {
        "page_count": 9,
        "title": None,
        "author": None,
        "producer": "macOS Version 15.6 (Build 24G84) Quartz PDFContext",
    }


async def test_pdf_to_chunks_pipeline(pdf_bytes: bytes) -> None:
    ctx = InMemoryContext()
    pdf = ctx.add_file(pdf_bytes, mime_type="application/octet-stream")  # detected by %PDF
    doc = document(
        inp("pdf_file_id", {"type": "string", "format": "file"}),
        entry("reader", "pdf_reader"),
        entry("splitter", "text_splitter", {"chunk_size": 1000, "chunk_overlap": 200}),
        out("chunks"),
        out("details"),
        connections=[
            conn("pdf_file_id", "reader", "data", "file_id"),
            conn("reader", "splitter", "pages", "text"),
            conn("splitter", "chunks"),
            conn("splitter", "details", "chunk_details", "data"),
        ],
    )
    result = await run(doc, {"pdf_file_id": pdf.file_id}, ctx)
    assert_completed(result)
    chunks = result.output["chunks"]  # type: ignore[index]
    assert len(chunks) >= 15 and all(len(chunk) <= 1000 for chunk in chunks)
    pages = {detail["page"] for detail in result.output["details"]}  # type: ignore[index]
    assert pages == set(range(1, 10))


async def test_file_ref_input(pdf_bytes: bytes) -> None:
    ctx = InMemoryContext()
    pdf = ctx.add_file(pdf_bytes, mime_type="application/pdf")
    outputs = await run_block("pdf_reader", {}, {"file_id": pdf.ref()}, ctx)
    assert outputs["metadata"]["page_count"] == 9


async def test_not_a_pdf() -> None:
    ctx = InMemoryContext()
    text = ctx.add_file(b"hello", mime_type="text/plain")
    with pytest.raises(BlockError) as raised:
        await run_block("pdf_reader", {}, {"file_id": text.file_id}, ctx)
    assert raised.value.error_type == "unsupported_file_type"


async def test_damaged_pdf() -> None:
    ctx = InMemoryContext()
    broken = ctx.add_file(b"%PDF-1.4\nthis is not really a pdf", mime_type="application/pdf")
    with pytest.raises(BlockError) as raised:
        await run_block("pdf_reader", {}, {"file_id": broken.file_id}, ctx)
    assert raised.value.error_type == "invalid_pdf"


async def test_missing_file() -> None:
    with pytest.raises(BlockError) as raised:
        await run_block("pdf_reader", {}, {"file_id": "file_nope"}, InMemoryContext())
    assert raised.value.error_type == "reference_not_found"


def _blank_pdf() -> bytes:
    """A one-page PDF without any text."""
    return build_pdf([b""])


async def test_page_without_text_layer_warns() -> None:
    ctx = InMemoryContext()
    blank = ctx.add_file(_blank_pdf(), mime_type="application/pdf")
    doc = document(
        entry("f", "constant", {"config_value": blank.file_id}),
        entry("r", "pdf_reader"),
        out("o"),
        connections=[conn("f", "r", "data", "file_id"), conn("r", "o", "pages", "data")],
    )
    result = await run(doc, ctx=ctx)
    assert_completed(result)
    assert result.output == {"o": [{"page_number": 1, "text": ""}]}
    assert result.progress_data["warnings"] == [
        "r: page 1 has no text layer (no OCR); its text is empty"
    ]

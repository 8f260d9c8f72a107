"""`pdf_reader` (pipelines.md 2.19): text of a PDF, per page, with pdfminer.six.

Input `file_id` (id string or file ref). The file must be a PDF (MIME `application/pdf` or bytes
starting with `%PDF`), else `unsupported_file_type`. Outputs `text` (pages joined by a blank
line, primary), `pages` (`[{"page_number", "text"}]`) and `metadata` (`{"page_count", "title",
"author", "producer"}`, null when unknown). Encrypted PDFs are opened with the empty password,
else `pdf_encrypted`; a page without a text layer yields `""` and a warning (no OCR). Extraction
runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

from pdfminer.high_level import extract_pages
from pdfminer.layout import LAParams, LTTextContainer
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFParser, PDFSyntaxError
from pdfminer.pdftypes import resolve1
from pdfminer.psparser import PSException
from pdfminer.utils import decode_text
from pydantic import BaseModel, ConfigDict

from ..context import BlockContext
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block


class PdfReaderConfig(BaseModel):
    model_config = ConfigDict(extra="allow")


def _info_text(info: dict[str, Any], key: str) -> str | None:
    value = resolve1(info.get(key))
    if isinstance(value, bytes):
        text = decode_text(value).strip()
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    return text or None


def read_pdf(data: bytes) -> tuple[list[str], dict[str, Any]]:
    """Page texts and metadata (blocking: run it in a thread)."""
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
        info: dict[str, Any] = {}
        for entry in document.info:
            if isinstance(entry, dict):
                info.update(entry)
        pages = []
        for layout in extract_pages(io.BytesIO(data), laparams=LAParams()):
            text = "".join(
                element.get_text() for element in layout if isinstance(element, LTTextContainer)
            )
            pages.append(text.strip())
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise BlockError(
            "pdf_encrypted", f"the PDF is encrypted: {exc or 'password required'}"
        ) from None
    except (PDFSyntaxError, PSException) as exc:
        raise BlockError("invalid_pdf", f"the PDF cannot be read: {exc}") from None
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        raise BlockError(
            "invalid_pdf", f"the PDF cannot be read: {type(exc).__name__}: {exc}"
        ) from None
    metadata = {
        "page_count": len(pages),
        "title": _info_text(info, "Title"),
        "author": _info_text(info, "Author"),
        "producer": _info_text(info, "Producer"),
    }
    return pages, metadata


@block("pdf_reader")
class PdfReader(BlockType[PdfReaderConfig]):
    description = "Extract the text of a PDF file, per page."
    config_model = PdfReaderConfig
    inputs = (Port("file_id", required=True, primary=True, kind="file_ref"),)
    outputs = (
        Port("text", primary=True, kind="string"),
        Port("pages", kind="array"),
        Port("metadata", kind="object"),
    )

    async def run(
        self, ctx: BlockContext, config: PdfReaderConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        info = await ctx.file(inputs.get("file_id"))
        data = await ctx.read_file(info)
        mime = info.mime_type.split(";", 1)[0].strip().lower()
        if mime != "application/pdf" and not data.startswith(b"%PDF"):
            raise BlockError(
                "unsupported_file_type",
                f"file '{info.file_id}' ({info.mime_type}) is not a PDF",
            )
        texts, metadata = await asyncio.to_thread(read_pdf, data)
        for number, text in enumerate(texts, start=1):
            if not text:
                ctx.warn(f"page {number} has no text layer (no OCR); its text is empty")
        pages = [{"page_number": number, "text": text} for number, text in enumerate(texts, 1)]
        return {"text": "\n\n".join(texts), "pages": pages, "metadata": metadata}

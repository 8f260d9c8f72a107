"""`pdf_reader`: text of a PDF, per page, with pdfminer.six.

Input `file_id` (id string or file ref). The file must be a PDF (MIME `application/pdf` or bytes
starting with `%PDF`), else `unsupported_file_type`. Outputs `text` (pages joined by a blank
line, primary), `pages` (`[{"page_number", "text"}]`) and `metadata` (`{"page_count", "title",
"author", "producer"}`, null when unknown). Encrypted PDFs are opened with the empty password,
else `pdf_encrypted`; a page without a text layer yields `""` and a warning (no OCR). Extraction
runs in a worker thread.

Budgets (`resource_limit` errors), because a small file can describe a huge amount of work:

* `pdf_max_pages`: the page tree is walked before any page is laid out.
* `pdf_max_inflated_bytes`: bytes produced by the decompressing stream filters (Flate, LZW,
  RunLength, CCITT) over the whole document. pdfminer decodes a stream with one unbounded
  `zlib.decompress`; the guards installed on `pdfminer.pdftypes` (see `_install_guards`)
  decompress with an output limit of the budget left while a read is metered (a context
  variable, so other users of pdfminer are unaffected), and raise before allocating past it.
* `pdf_max_page_objects`: characters, path segments and images laid out on one page (each costs
  pdfminer several hundred bytes of layout objects), counted as the page is interpreted.
* `pdf_max_text_bytes`: the extracted text (UTF-8, separators included), checked after each page.

The worker thread also stops between pages, and every few thousand layout objects, once the run
is stopping (cancel, failure elsewhere, time limit).
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import zlib
from collections.abc import Callable
from typing import Any, Final

from pdfminer import pdftypes
from pdfminer.converter import PDFPageAggregator
from pdfminer.layout import LAParams, LTTextContainer
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser, PDFSyntaxError
from pdfminer.pdftypes import resolve1
from pdfminer.psparser import PSException
from pdfminer.utils import decode_text
from pydantic import BaseModel, ConfigDict

from ..budgets import DEFAULT_BUDGETS, Budgets, ResourceLimitError, format_bytes, over_budget
from ..budgets import text_bytes as utf8_size
from ..context import BlockContext, FileInfo
from ..errors import BlockError
from ..ports import Port
from ..registry import BlockType, block

STOP_CHECK_EVERY: Final = 4096  # layout objects between two looks at the stop flag
INFLATE_SLICE: Final = 1 << 20  # output bytes per step when measuring a Flate stream


class PdfReaderConfig(BaseModel):
    model_config = ConfigDict(extra="allow")


class _Stopped(Exception):
    """The run is stopping: the extraction thread gives up."""


# -- decompression guards -------------------------------------------------------------------


class _Inflation:
    """Decoded bytes of one PDF against `pdf_max_inflated_bytes`. Once passed, it stays passed
    (`tripped`), so an error swallowed inside pdfminer is raised again at the end."""

    __slots__ = ("limit", "total", "tripped")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.total = 0
        self.tripped: ResourceLimitError | None = None

    def room(self) -> int:
        return max(self.limit - self.total, 0)

    def add(self, amount: int) -> None:
        self.total += amount
        if self.total > self.limit or self.tripped is not None:
            self.tripped = over_budget(
                "pdf_max_inflated_bytes",
                self.limit,
                f"the PDF's streams decompress to at least {format_bytes(self.total)}",
            )
            raise self.tripped


_METER: contextvars.ContextVar[_Inflation | None] = contextvars.ContextVar(
    "pdf_inflation", default=None
)


class _CountingDecompressor:
    """A `zlib.decompressobj` whose output is added to the meter (pdfminer's path for damaged
    streams feeds it one byte at a time, so each call's output is small)."""

    def __init__(self, inner: Any, meter: _Inflation) -> None:
        self._inner = inner
        self._meter = meter

    def decompress(self, data: bytes, max_length: int = 0) -> bytes:
        output: bytes = self._inner.decompress(data, max_length)
        self._meter.add(len(output))
        return output

    def flush(self, *args: Any) -> bytes:
        output: bytes = self._inner.flush(*args)
        self._meter.add(len(output))
        return output

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _inflated_size(data: bytes, wbits: int, room: int) -> int:
    """What `zlib.decompress(data, wbits)` would return the length of, found by inflating a
    slice at a time and dropping the output; stops once past `room`. Raises `zlib.error` as
    `zlib.decompress` would (damaged or truncated stream)."""
    decompressor = zlib.decompressobj(wbits)
    size = len(decompressor.decompress(data, INFLATE_SLICE))
    while decompressor.unconsumed_tail and size <= room:
        size += len(decompressor.decompress(decompressor.unconsumed_tail, INFLATE_SLICE))
    if size <= room:
        size += len(decompressor.flush())
        if not decompressor.eof:
            raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
    return size


class _GuardedZlib:
    """Stands in for the `zlib` module inside `pdfminer.pdftypes`. Outside a metered read it is
    plain `zlib`; inside, `decompress` first measures the stream (inflating it a slice at a time
    without keeping the output) and fails if it would pass the budget left; only then it
    inflates it, into a buffer of the measured size (so memory stays at the stream's size, not
    twice that). `decompressobj` counts what it produces."""

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    def decompress(
        self, data: bytes, wbits: int = zlib.MAX_WBITS, bufsize: int = zlib.DEF_BUF_SIZE
    ) -> bytes:
        meter = _METER.get()
        if meter is None:
            return zlib.decompress(data, wbits, bufsize)
        size = _inflated_size(data, wbits, meter.room())
        if size > meter.room():
            meter.add(size)  # raises: the stream inflates past the budget
        output = zlib.decompress(data, wbits, size + 1)
        meter.add(len(output))
        return output

    def decompressobj(self, *args: Any, **kwargs: Any) -> Any:
        inner = zlib.decompressobj(*args, **kwargs)
        meter = _METER.get()
        return inner if meter is None else _CountingDecompressor(inner, meter)


def _runlength_size(data: bytes) -> int:
    """Length of `data` decoded by RunLengthDecode (PDF 32000 7.4.5), without decoding it."""
    size = 0
    position = 0
    end = len(data)
    while position < end:
        length = data[position]
        if length == 128:  # end of data
            break
        if length < 128:
            size += length + 1
            position += length + 2
        else:
            size += 257 - length
            position += 2
    return size


def _install_guards() -> None:
    """Put the guards in `pdfminer.pdftypes` (once; they are inert outside a metered read)."""
    if isinstance(pdftypes.zlib, _GuardedZlib):
        return
    plain_lzw = pdftypes.lzwdecode
    plain_runlength = pdftypes.rldecode
    plain_ccitt = pdftypes.ccittfaxdecode

    def lzwdecode(data: bytes) -> bytes:
        meter = _METER.get()
        if meter is None:
            return plain_lzw(data)
        parts = []
        for part in LZWDecoder(io.BytesIO(data)).run():  # a chunk at a time, counted
            meter.add(len(part))
            parts.append(part)
        return b"".join(parts)

    def rldecode(data: bytes) -> bytes:
        meter = _METER.get()
        if meter is None:
            return plain_runlength(data)
        if len(data) * 128 > meter.room():  # could pass the budget: measure first
            size = _runlength_size(data)
            if size > meter.room():
                meter.add(size)  # raises
        output = plain_runlength(data)
        meter.add(len(output))
        return output

    def ccittfaxdecode(data: bytes, params: dict[str, object]) -> bytes:
        output = plain_ccitt(data, params)
        meter = _METER.get()
        if meter is not None:
            meter.add(len(output))
        return output

    guards: dict[str, Any] = {
        "lzwdecode": lzwdecode,
        "rldecode": rldecode,
        "ccittfaxdecode": ccittfaxdecode,
        "zlib": _GuardedZlib(),  # last: it marks the guards as installed
    }
    for name, guard in guards.items():
        setattr(pdftypes, name, guard)


_install_guards()


# -- layout with a per-page object budget ---------------------------------------------------


class _BoundedAggregator(PDFPageAggregator):
    """`PDFPageAggregator` that counts the layout objects of the current page."""

    def __init__(
        self,
        resources: PDFResourceManager,
        laparams: LAParams,
        limit: int,
        stop: Callable[[], bool],
    ) -> None:
        super().__init__(resources, laparams=laparams)
        self.limit = limit
        self.stop = stop
        self.page_number = 0
        self.objects = 0

    def _count(self, amount: int = 1) -> None:
        before = self.objects
        self.objects += amount
        if self.objects > self.limit:
            raise over_budget(
                "pdf_max_page_objects",
                self.limit,
                f"page {self.page_number} has more than {self.limit:,} characters, path "
                "segments and images",
            )
        if before // STOP_CHECK_EVERY != self.objects // STOP_CHECK_EVERY and self.stop():
            raise _Stopped

    def render_char(self, *args: Any, **kwargs: Any) -> float:
        self._count()
        return super().render_char(*args, **kwargs)

    def paint_path(self, *args: Any, **kwargs: Any) -> None:
        path = kwargs.get("path", args[4] if len(args) > 4 else ())
        moves = sum(1 for segment in path if segment[:1] == ("m",))
        if not (path and path[0][:1] == ("m",) and moves > 1):  # else split and counted per part
            self._count(max(1, len(path)))
        super().paint_path(*args, **kwargs)

    def render_image(self, *args: Any, **kwargs: Any) -> None:
        self._count()
        super().render_image(*args, **kwargs)


# -- reading --------------------------------------------------------------------------------


def _info_text(info: dict[str, Any], key: str) -> str | None:
    value = resolve1(info.get(key))
    if isinstance(value, bytes):
        text = decode_text(value).strip()
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    return text or None


def _never() -> bool:
    return False


def read_pdf(
    data: bytes, budgets: Budgets = DEFAULT_BUDGETS, stop: Callable[[], bool] = _never
) -> tuple[list[str], dict[str, Any]]:
    """Page texts and metadata (blocking: run it in a thread), within `budgets`; `stop()`
    true ends it early with `_Stopped`."""
    meter = _Inflation(budgets.pdf_max_inflated_bytes)
    token = _METER.set(meter)
    try:
        pages, info = _extract(data, budgets, stop)
        if meter.tripped is not None:  # raised inside pdfminer and swallowed there
            raise meter.tripped
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise BlockError(
            "pdf_encrypted", f"the PDF is encrypted: {exc or 'password required'}"
        ) from None
    except (BlockError, _Stopped):
        raise
    except (PDFSyntaxError, PSException) as exc:
        raise BlockError("invalid_pdf", f"the PDF cannot be read: {exc}") from None
    except Exception as exc:  # pdfminer raises many kinds on damaged files
        if meter.tripped is not None:
            raise meter.tripped from None
        raise BlockError(
            "invalid_pdf", f"the PDF cannot be read: {type(exc).__name__}: {exc}"
        ) from None
    finally:
        _METER.reset(token)
    metadata = {
        "page_count": len(pages),
        "title": _info_text(info, "Title"),
        "author": _info_text(info, "Author"),
        "producer": _info_text(info, "Producer"),
    }
    return pages, metadata


def _extract(
    data: bytes, budgets: Budgets, stop: Callable[[], bool]
) -> tuple[list[str], dict[str, Any]]:
    document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
    info: dict[str, Any] = {}
    for entry in document.info:
        if isinstance(entry, dict):
            info.update(entry)
    max_pages = budgets.pdf_max_pages
    found: list[PDFPage] = []
    for page in PDFPage.create_pages(document):
        found.append(page)
        if len(found) > max_pages:
            raise over_budget(
                "pdf_max_pages", max_pages, f"the PDF has more than {max_pages:,} pages"
            )
    resources = PDFResourceManager(caching=True)
    device = _BoundedAggregator(resources, LAParams(), budgets.pdf_max_page_objects, stop)
    interpreter = PDFPageInterpreter(resources, device)
    max_text = budgets.pdf_max_text_bytes
    text_size = 0
    pages: list[str] = []
    for number, page in enumerate(found, start=1):
        if stop():
            raise _Stopped
        device.page_number = number
        device.objects = 0
        interpreter.process_page(page)
        layout = device.get_result()
        text = "".join(
            element.get_text() for element in layout if isinstance(element, LTTextContainer)
        ).strip()
        text_size += utf8_size(text) + (2 if pages else 0)  # the blank line between pages
        if text_size > max_text:
            raise over_budget(
                "pdf_max_text_bytes",
                max_text,
                f"the text of pages 1-{number} is at least {format_bytes(text_size)}",
            )
        pages.append(text)
    return pages, info


def is_pdf(info: FileInfo, data: bytes) -> bool:
    """MIME `application/pdf` or bytes starting with `%PDF`."""
    mime = info.mime_type.split(";", 1)[0].strip().lower()
    return mime == "application/pdf" or data.startswith(b"%PDF")


async def extract_pages(ctx: BlockContext, data: bytes) -> tuple[list[str], dict[str, Any]]:
    """Page texts and metadata of a PDF, read in a worker thread within the run's budgets
    (also for the blocks that read PDFs themselves, e.g. `clause_extraction_agent`); a page
    without text adds a warning."""
    try:
        texts, metadata = await asyncio.to_thread(read_pdf, data, ctx.budgets, ctx.cancelled)
    except _Stopped:
        raise asyncio.CancelledError from None
    for number, text in enumerate(texts, start=1):
        if not text:
            ctx.warn(f"page {number} has no text layer (no OCR); its text is empty")
    return texts, metadata


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
        if not is_pdf(info, data):
            raise BlockError(
                "unsupported_file_type",
                f"file '{info.file_id}' ({info.mime_type}) is not a PDF",
            )
        texts, metadata = await extract_pages(ctx, data)
        pages = [{"page_number": number, "text": text} for number, text in enumerate(texts, 1)]
        return {"text": "\n\n".join(texts), "pages": pages, "metadata": metadata}

"""Small hand-built PDFs for the pdf_reader tests (budgets, bombs), written byte by byte.

    build_pdf([b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"])             # one page, plain content
    build_pdf([content], flate=True)                                 # content stream FlateDecode
    build_pdf([], raw_pages=[zlib_bytes], filters="/FlateDecode")    # a pre-compressed stream

Every page uses the standard Helvetica font as /F1. Offsets in the xref table are exact.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence


def text_content(text: str, *, size: int = 12) -> bytes:
    """A content stream that shows `text` (ASCII, no parentheses or backslashes) at the top."""
    return f"BT /F1 {size} Tf 72 720 Td ({text}) Tj ET".encode("ascii")


def deflate_zeros(size: int, *, chunk: int = 1 << 20) -> bytes:
    """`size` zero bytes, deflated with zlib, without holding them all in memory."""
    compressor = zlib.compressobj(9)
    zero = bytes(chunk)
    parts = []
    left = size
    while left > 0:
        step = min(left, chunk)
        parts.append(compressor.compress(zero[:step]))
        left -= step
    parts.append(compressor.flush())
    return b"".join(parts)


def build_pdf(
    contents: Sequence[bytes] = (),
    *,
    flate: bool = False,
    raw_streams: Sequence[bytes] = (),
    filters: str = "",
) -> bytes:
    """A PDF with one page per content stream.

    `contents` are plain content streams (deflated first when `flate`); `raw_streams` are
    written as they are with `/Filter filters` (for streams already compressed by the test).
    """
    streams: list[tuple[bytes, str]] = []
    for content in contents:
        if flate:
            streams.append((zlib.compress(content), "/FlateDecode"))
        else:
            streams.append((content, ""))
    streams.extend((raw, filters) for raw in raw_streams)
    count = len(streams)
    # 1 catalog, 2 pages, 3 font, then (page, content) pairs
    page_ids = [4 + 2 * number for number in range(count)]
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{page} 0 R".encode() for page in page_ids)
        + f"] /Count {count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for page, (data, stream_filter) in zip(page_ids, streams, strict=True):
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> " + f"/Contents {page + 1} 0 R >>".encode()
        )
        header = f"<< /Length {len(data)}"
        if stream_filter:
            header += f" /Filter {stream_filter}"
        objects.append(header.encode() + b" >>\nstream\n" + data + b"\nendstream")
    return pdf_from_objects(objects)


def pdf_from_objects(objects: Sequence[bytes]) -> bytes:
    """A PDF of `objects` (object n is `objects[n-1]`; 1 is the catalog) with an exact
    cross-reference table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


def lzw_zeros(blocks: int) -> bytes:
    """LZWDecode data for 31,878 zero bytes per block, in 9-bit codes (about 284 bytes a block).

    Each block clears the table (256), emits 0 and then codes 258, 259, ... (each the previous
    string plus one zero); it stops before the table would need 10-bit codes. Ends with 257.
    """
    codes: list[int] = []
    for _ in range(blocks):
        codes.extend([256, 0, *range(258, 509)])
    codes.append(257)
    bits = "".join(f"{code:09b}" for code in codes)
    bits += "0" * (-len(bits) % 8)
    return int(bits, 2).to_bytes(len(bits) // 8, "big")

"""File decisions that need no I/O, shared by both clients' transfers and resources.

Upload names and MIME types, the status vocabulary of ``files.list``, hash comparison, reading the
server's answers about upload and download URLs, the options of the follow-up requests of a
transfer, the retry rule and the error messages of presigned transfers.
"""

import mimetypes
import os
import re
from pathlib import PurePath
from typing import Any, Dict, Optional, Tuple

import httpx

from ._base_client import error_from_response
from ._exceptions import APIError

__all__ = [
    "CHUNK_SIZE",
    "DEFAULT_UPLOAD_NAME",
    "MissingFileError",
    "detect_mime_type",
    "download_target",
    "known_size",
    "normalize_hash",
    "storage_error",
    "upload_name",
    "upload_status",
    "upload_target",
]

#: Bytes per read, PUT chunk and disk write of a transfer. Large enough that per-chunk costs
#: (a thread hop, a syscall, a Python loop turn) vanish next to the copy itself, small enough that
#: a transfer holds a few of them at most (benchmarks/file_transfer.py measures both sides).
CHUNK_SIZE = 4 * 1024 * 1024
#: Bytes of content examined when the name says nothing about the type.
SNIFF_SIZE = 2048
DEFAULT_UPLOAD_NAME = "uploaded_file"
OCTET_STREAM = "application/octet-stream"


class MissingFileError(FileNotFoundError, ValueError):
    """The path given to ``files.upload`` does not exist. Raised before any request is made.

    A ``FileNotFoundError``, and a ``ValueError`` as 0.2.7 raised for the same mistake.
    """


# --- listing --------------------------------------------------------------------------------

# Two vocabularies for the status filter (0.2.7's words and the wire's); the wire knows three.
_STATUS_ALIASES = {
    "completed": "completed",
    "ready": "completed",
    "uploaded": "completed",
    "pending": "pending",
    "processing": "pending",
    "failed": "failed",
    "error": "failed",
}


def upload_status(status: Optional[str]) -> Optional[str]:
    """The wire ``uploadStatus`` for a status word (unknown words pass through)."""
    if status is None:
        return None
    return _STATUS_ALIASES.get(status.lower(), status)


def normalize_hash(value: Optional[str]) -> Optional[str]:
    """A SHA-256 as 64 lower-case hex characters, without a ``sha256:`` prefix; else ``None``."""
    if not value:
        return None
    text = value.strip().lower()
    if text.startswith("sha256:"):
        text = text[len("sha256:") :]
    return text if re.fullmatch(r"[0-9a-f]{64}", text) else None


# --- names and types ------------------------------------------------------------------------


def upload_name(
    given: Optional[str],
    *,
    path: Optional[str] = None,
    source_name: Any = None,
    default: str = DEFAULT_UPLOAD_NAME,
) -> str:
    """The file name sent at upload-url time.

    * a path: its base name; a ``given`` name without the path's extension gets it appended
      (``"Q3 report"`` + ``q3.pdf`` -> ``"Q3 report.pdf"``);
    * a file object: ``given``, else the base name of its ``.name``;
    * bytes: ``given``, else ``default`` (``"uploaded_file"``).
    """
    if path is not None:
        base = PurePath(path).name
        if not given:
            return base
        suffix = PurePath(base).suffix
        if suffix and not given.lower().endswith(suffix.lower()):
            return given + suffix
        return given
    if given:
        return given
    if isinstance(source_name, (str, os.PathLike)):
        base = PurePath(os.fspath(source_name)).name
        # Names like "<stdin>" or "<fdopen>" are not file names.
        if base and not (base.startswith("<") and base.endswith(">")):
            return str(base)
    return default


# Signatures at offset 0 (first match wins). Enough for the documents users upload; anything
# else is left to the name, then to the text heuristics.
_MAGIC = [
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),  # an empty archive
    (b"\x1f\x8b", "application/gzip"),
]
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_like_text(head: bytes) -> bool:
    if _CONTROL.search(head):
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still text.
        if exc.start < len(head) - 3:
            return False
    return True


def _looks_like_csv(head: bytes) -> bool:
    """At least two complete lines with the same number (>= 1) of commas or semicolons."""
    lines = head.decode("utf-8", "ignore").replace("\r\n", "\n").split("\n")
    if len(head) >= SNIFF_SIZE:
        lines.pop()  # a sample cut from a longer content: its last line may be partial
    lines = [line for line in lines if line.strip()][:10]
    if len(lines) < 2:
        return False
    for separator in (",", ";"):
        counts = {line.count(separator) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return True
    return False


def sniff_mime_type(head: bytes) -> Optional[str]:
    """A MIME type from the first bytes of the content, or ``None`` when nothing matches."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head and _looks_like_text(head):
        return "text/csv" if _looks_like_csv(head) else "text/plain"
    return None


def detect_mime_type(name: str, head: bytes) -> str:
    """From the name (``mimetypes``), else from the content, else ``application/octet-stream``."""
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed and guessed != OCTET_STREAM:
        return guessed
    return sniff_mime_type(head[:SNIFF_SIZE]) or OCTET_STREAM


# --- the server's answers about transfers ------------------------------------------------------


def upload_target(
    created: Any, entity_key: str, id_key: str, action: str
) -> Tuple[Dict[str, Any], str, str, Dict[str, str]]:
    """The entity, its id, the URL and the signed extra headers of an answer that hands out an
    upload URL (``POST /files/upload-url``, ``POST /dataset-data-versions``)."""
    entity = created.get(entity_key) if isinstance(created, dict) else None
    url = created.get("uploadUrl") if isinstance(created, dict) else None
    if not isinstance(entity, dict) or not isinstance(url, str) or not entity.get(id_key):
        raise APIError(f"Unexpected answer to {action}: no {entity_key} or uploadUrl")
    extra = created.get("uploadHeaders")
    # Headers the URL's signature covers (e.g. an S3 checksum) must be sent as they are.
    signed = {str(k): str(v) for k, v in extra.items()} if isinstance(extra, dict) else {}
    return entity, str(entity[id_key]), url, signed


def download_target(answer: Any, action: str) -> Tuple[Dict[str, Any], str]:
    """The answer (a dict) and its ``downloadUrl``, from an answer that hands out a download URL."""
    answer = answer if isinstance(answer, dict) else {}
    url = answer.get("downloadUrl")
    if not isinstance(url, str) or not url:
        raise APIError(f"Unexpected answer to {action}: no downloadUrl")
    return answer, url


def known_size(value: Any) -> int:
    """A size in bytes from an answer, or -1 when it gives none."""
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


# --- presigned transfers --------------------------------------------------------------------


def transfer_should_retry(response: httpx.Response) -> bool:
    """Storage answers worth repeating: 5xx only. A 403 (expired or altered URL) and every other
    4xx would fail the same way again."""
    return response.status_code >= 500


def _xml_field(text: str, tag: str) -> Optional[str]:
    match = re.search(rf"<{tag}>([^<]*)</{tag}>", text)
    return match.group(1).strip() if match else None


def storage_error(response: httpx.Response, action: str) -> APIError:
    """The SDK error for a refused presigned ``action`` ("upload" or "download").

    The class follows the status like API errors do (403 -> ``PermissionDeniedError``, 404 ->
    ``NotFoundError``); the message says that the storage URL, not the API key, was refused, and
    carries the store's own reason (JSON from the local store, XML from S3).
    """
    error = error_from_response(response)
    status = response.status_code
    reason = None
    text = response.text if response.content else ""
    if text.lstrip().startswith("<"):
        code, message = _xml_field(text, "Code"), _xml_field(text, "Message")
        reason = ": ".join(part for part in (code, message) if part) or None
    elif error.message != f"HTTP {status}":
        reason = error.message.removeprefix(f"HTTP {status}: ")  # a plain-text body as is
    detail = f"HTTP {status}" + (f": {reason}" if reason else "")
    if status == 403:
        message = (
            f"The storage service refused the presigned {action} URL ({detail}). The URL has "
            "expired, was altered, or does not allow this request; retry the whole "
            f"{action} to get a new URL."
        )
    elif status == 404:
        message = f"The storage service has no object behind the presigned {action} URL ({detail})"
    else:
        message = f"The presigned {action} failed ({detail})"
    error.message = message
    error.args = (message,)
    return error

"""Pipeline rules that need no I/O, shared by both clients: statuses, progress text, failure
details, and decoding a stored output (``GET /pipeline-executions/{id}/output`` answers inline
``data`` or, for a large output, a URL to gzip-compressed JSON; docs/reference/api.md)."""

import gzip
import json
import zlib
from typing import Any, List, Mapping, Optional, Tuple

from ._exceptions import APIError

__all__ = [
    "TERMINAL_STATUSES",
    "change_key",
    "decode_stored_output",
    "failure_details",
    "inline_output",
    "progress_message",
    "progress_percentage",
    "stored_output",
    "poll_delay",
]

TERMINAL_STATUSES = frozenset({"completed", "failed", "cancelled"})


def progress_percentage(current_step: Optional[int], total_steps: Optional[int]) -> Optional[float]:
    """``current_step / total_steps * 100`` when both are known and ``total_steps > 0``."""
    if current_step is None or not total_steps or total_steps <= 0:
        return None
    return current_step / total_steps * 100.0


def progress_message(progress_data: Mapping[str, Any]) -> Optional[str]:
    """The engine's progress text: ``message``, else ``status``, else ``Processing <block>``."""
    for key in ("message", "status"):
        value = progress_data.get(key)
        if isinstance(value, str) and value:
            return value
    block = progress_data.get("current_block")
    if isinstance(block, str) and block:
        return f"Processing {block}"
    return None


def failure_details(
    progress_data: Mapping[str, Any],
) -> Tuple[str, Optional[str], Optional[str], List[str]]:
    """``(message, failed_block, error_type, errors)`` of a failed execution's progress data:
    the message is ``errors`` joined with ``"; "`` when present, else ``error``."""
    raw = progress_data.get("errors")
    errors = [str(e) for e in raw if e] if isinstance(raw, list) else []
    error = progress_data.get("error")
    message = "; ".join(errors) if errors else (str(error) if error else "unknown error")
    block = progress_data.get("failed_block")
    error_type = progress_data.get("error_type")
    return (
        message,
        block if isinstance(block, str) else None,
        error_type if isinstance(error_type, str) else None,
        errors or ([str(error)] if error else []),
    )


def change_key(status: str, current_step: Any, total_steps: Any, progress: Any) -> str:
    """What ``on_progress`` watches: a change in any of these calls it again."""
    return json.dumps([status, current_step, total_steps, progress], sort_keys=True, default=str)


def poll_delay(attempt: int, poll_interval: float) -> float:
    """Seconds before poll ``attempt + 1``: quick at first (small pipelines finish in well under
    a second), doubling up to ``poll_interval``."""
    return max(0.0, min(poll_interval, 0.1 * 2.0**attempt))


def inline_output(answer: Any) -> Tuple[bool, Any]:
    """``(True, data)`` for an inline answer of ``GET .../output``; ``(False, None)`` otherwise."""
    if isinstance(answer, dict) and answer.get("type") == "inline":
        data = answer.get("data")
        return True, data if data is not None else {}
    return False, None


def stored_output(answer: Any) -> Optional[Tuple[str, int, Optional[str]]]:
    """``(downloadUrl, fileSizeBytes or -1, compressionType)`` of a stored (``s3``) answer."""
    if not isinstance(answer, dict) or answer.get("type") != "s3":
        return None
    url = answer.get("downloadUrl")
    if not isinstance(url, str) or not url:
        return None
    metadata = answer.get("metadata")
    metadata = metadata if isinstance(metadata, dict) else {}
    size = metadata.get("fileSizeBytes")
    compression = metadata.get("compressionType")
    return (
        url,
        size if isinstance(size, int) and not isinstance(size, bool) else -1,
        compression if isinstance(compression, str) else None,
    )


def decode_stored_output(raw: bytes, compression: Optional[str]) -> Any:
    """The JSON value of a stored output: gunzipped when ``compression`` is ``gzip`` (also when
    the bytes carry the gzip magic anyway), then parsed as UTF-8 JSON."""
    try:
        if compression == "gzip" or raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        elif compression not in (None, "", "none"):
            raise APIError(f"Stored pipeline output uses unsupported compression {compression!r}")
        return json.loads(raw.decode("utf-8"))
    except (OSError, EOFError, zlib.error, UnicodeDecodeError, ValueError) as exc:
        raise APIError(f"The stored pipeline output could not be read: {exc}") from exc

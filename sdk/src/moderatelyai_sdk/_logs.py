"""The SDK's logging: the ``moderatelyai_sdk`` logger, and ``MODERATELY_LOG`` to turn it on.

One line per attempt at DEBUG (method, path, status, elapsed ms, request id, attempt) and one per
retry at INFO. Lines carry the URL's path only: never the query (presigned URLs sign there),
never a header (the API key), never a body.
"""

import logging
import os
from typing import Optional
from urllib.parse import urlsplit

import httpx

__all__ = ["logger", "setup_from_environment"]

logger = logging.getLogger("moderatelyai_sdk")

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


def setup_from_environment() -> None:
    """``MODERATELY_LOG=debug|info`` prints the SDK's lines to stderr without any code; an
    application's own logging configuration is left alone otherwise."""
    level = _LEVELS.get((os.environ.get("MODERATELY_LOG") or "").strip().lower())
    if level is None:
        return
    logger.setLevel(level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(handler)


def target(request: httpx.Request, presigned: bool) -> str:
    """What a line names: the API path, or only the host of a presigned storage URL (its path
    may carry a token, its query the signature)."""
    if presigned:
        parts = urlsplit(str(request.url))
        return f"storage {parts.scheme}://{parts.netloc}"
    return request.url.path


def log_response(
    request: httpx.Request,
    presigned: bool,
    status: Optional[int],
    elapsed: float,
    request_id: Optional[str],
    attempt: int,
) -> None:
    outcome = str(status) if status is not None else "no answer"
    logger.debug(
        "%s %s -> %s in %.1f ms (request id %s, attempt %d)",
        request.method,
        target(request, presigned),
        outcome,
        elapsed * 1000,
        request_id or "-",
        attempt,
    )


def log_retry(
    request: httpx.Request, presigned: bool, why: str, delay: float, attempt: int, attempts: int
) -> None:
    """A retry is coming: why, after how long, and which attempt it will be (1-based)."""
    logger.info(
        "%s %s: %s; retrying in %.2f s (attempt %d of %d)",
        request.method,
        target(request, presigned),
        why,
        delay,
        attempt,
        attempts,
    )

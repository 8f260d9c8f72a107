"""No log line holds a credential: storage URL signatures, API token secrets, bearer headers.

What is redacted, wherever it appears in a record (message, arguments, exception text):

* the local store's signed token in `/_storage/upload/<token>` and `/_storage/download/<token>`
  (the token is the whole credential, storage/local.py);
* S3 presigned query parameters `X-Amz-Signature`, `X-Amz-Credential`, `X-Amz-Security-Token`
  (also percent-encoded), the SigV4 `Signature=`/`Credential=` of an `Authorization` header and
  the `Signature:` botocore logs at DEBUG, a `x-amz-security-token` header;
* `key=`, `api_key=`, `token=`, `sig=` and `signature=` query parameters (LLM providers that take
  their key in the URL);
* any `mai_...` API token secret, and the credential after `Bearer`.

`install()` wraps the process's log record factory, so every record is redacted when it is
made, before any handler (uvicorn's access log, ours, a test's capture) sees it; handlers
configured later are covered too. `RedactingFilter` does the same for a handler of one's own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["REDACTED", "RedactingFilter", "install", "redact", "redact_record"]

REDACTED = "<redacted>"

# A query value ends at the next parameter, also when the URL is percent-encoded once (%26).
_UNTIL_URL_END = r"(?:(?!%26)[^\s\"'<>&#,;)\]}])+"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(/_storage/(?:upload|download)/)[^/?#\s\"'<>]+"), rf"\1{REDACTED}"),
    (
        re.compile(
            r"(X-Amz-(?:Signature|Credential|Security-Token)(?:=|%3D|%253D))" + _UNTIL_URL_END,
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(r"(x-amz-security-token['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s,}&]+", re.IGNORECASE),
        rf"\1{REDACTED}",
    ),
    # SigV4 in an Authorization header, and botocore's DEBUG lines ("Signature:\n<hex>").
    (re.compile(r"(\bSignature\s*[:=]\s*)[0-9a-fA-F]{16,}"), rf"\1{REDACTED}"),
    (re.compile(r"(\bCredential=)[^,&\s\"']+"), rf"\1{REDACTED}"),
    (
        re.compile(
            r"([?&](?:api[_-]?key|key|access[_-]?token|token|sig|signature)=)" + _UNTIL_URL_END,
            re.IGNORECASE,
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"(?<![A-Za-z0-9_-])mai_[A-Za-z0-9_-]{8,}"), f"mai_{REDACTED}"),
    (re.compile(r"(\bBearer\s+)[^\s\"',;]+", re.IGNORECASE), rf"\1{REDACTED}"),
)

# Loggers whose formatters read `record.args` as a structure (uvicorn's access log unpacks the
# request line from them): their arguments are redacted one by one, never folded into `msg`.
_STRUCTURED_ARGS = frozenset({"uvicorn.access"})
_PLAIN = (int, float, bool, type(None))


def redact(text: str) -> str:
    """`text` with every credential pattern replaced by `<redacted>`; idempotent."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def _redact_arg(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, _PLAIN):
        return value
    try:
        shown = str(value)
    except Exception:  # an argument that cannot even be shown holds nothing to leak
        return value
    cleaned = redact(shown)
    # Untouched objects stay objects, so `%r` and `%d` format them as before.
    return value if cleaned == shown else cleaned


def redact_record(record: logging.LogRecord) -> None:
    """Redact `record` in place: message, arguments, exception and stack text."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    args = record.args
    if isinstance(args, tuple):
        record.args = tuple(_redact_arg(value) for value in args)
    elif isinstance(args, Mapping):
        record.args = {key: _redact_arg(value) for key, value in args.items()}
    if record.args and record.name not in _STRUCTURED_ARGS:
        # A pattern split between the format and an argument ("Signature:\n%s").
        try:
            message = record.getMessage()
        except Exception:  # a record that cannot be formatted fails later, as it would have
            message = None
        if message is not None:
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # The formatted traceback is kept in `exc_text`, which formatters use as it is.
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    """A filter for handlers: redacts each record it passes (and passes them all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_MARK = "_moderately_redacts"


def install() -> None:
    """Redact every log record of this process from now on (idempotent)."""
    current: Callable[..., logging.LogRecord] = logging.getLogRecordFactory()
    if getattr(current, _MARK, False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        redact_record(record)
        return record

    setattr(make_record, _MARK, True)
    logging.setLogRecordFactory(make_record)

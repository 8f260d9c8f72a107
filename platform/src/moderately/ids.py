"""Identifiers and secrets: 21-character nanoids over the URL-safe alphabet."""

from __future__ import annotations

import re
import secrets

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
ID_LENGTH = 21
# Path ids are accepted in any shape; anything outside this pattern cannot be one of ours,
# so lookups answer "not found" without asking the database (PostgreSQL rejects NUL bytes).
_PLAUSIBLE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
# Each of the 256 byte values to its letter (the low 6 bits), for `bytes.translate`.
_LETTER_OF_BYTE = bytes(ALPHABET[b & 63].encode("ascii")[0] for b in range(256))


def new_id(size: int = ID_LENGTH) -> str:
    """A random string over the 64-letter alphabet; 256 % 64 == 0, so masking is unbiased."""
    return secrets.token_bytes(size).translate(_LETTER_OF_BYTE).decode("ascii")


def is_plausible_id(value: str) -> bool:
    return _PLAUSIBLE_ID.fullmatch(value) is not None

"""The object store this server uses, built from Settings (the app opens it in its lifespan)."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from moderately.config import Settings
from moderately.storage import ObjectStore, open_store

__all__ = ["open_object_store", "signing_secret", "storage_location"]

_SECRET_BYTES = 32


def storage_location(settings: Settings) -> str:
    """`storage_url`, or the local store's default directory in the data dir."""
    return settings.storage_url or str((settings.data_dir / "objects").absolute())


def signing_secret(settings: Settings) -> str:
    """The local store's HMAC key: the setting, else the one kept in the data dir.

    Made once, mode 0600 from its first byte, and published with a hard link, which fails
    when the file already exists: processes starting together all end up reading the one
    secret that won, never a half-written file.
    """
    if settings.signing_secret:
        return settings.signing_secret
    path = settings.signing_secret_file
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    candidate = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(_SECRET_BYTES) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(candidate, path)
    finally:
        candidate.unlink(missing_ok=True)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    secret = path.read_text().strip()
    if len(secret) < 16:
        raise RuntimeError(f"{path} holds no usable signing secret (16 characters at least)")
    return secret


async def open_object_store(settings: Settings) -> ObjectStore:
    """The configured store, set up (directories made, bucket checked or created)."""
    location = storage_location(settings)
    if location.startswith("s3://"):
        return await open_store(
            location, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key
        )
    return await open_store(location, signing_secret=signing_secret(settings))

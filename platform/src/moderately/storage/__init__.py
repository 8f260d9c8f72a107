"""Object storage: one `ObjectStore` protocol, a local-disk store and an S3 store.

Pick one with a URL-like setting:

* `file:///var/lib/moderately/objects` or a plain path: `LocalStore`, URLs signed by the server;
* `s3://bucket[/prefix/]?endpoint=http://127.0.0.1:8333&region=us-east-1`: `S3Store`. Other
  query keys: `addressing` (`path`, `virtual`, `auto`; default `path` with an endpoint, else
  `auto`), `public_endpoint` (the endpoint clients reach, when it differs), `create_bucket`
  (`true`/`false`, default true). Credentials never go in the URL: pass them, or set
  `MODERATELY_S3_ACCESS_KEY`/`MODERATELY_S3_SECRET_KEY`, or the usual `AWS_*` variables.

`S3Store` needs the `s3` extra (botocore); it is imported only when an `s3://` URL is used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from .base import (
    ExpiredSignature,
    IntegrityError,
    InvalidKey,
    InvalidSignature,
    Method,
    ObjectInfo,
    ObjectNotFound,
    ObjectReader,
    ObjectStore,
    PresignedRequest,
    SignatureError,
    StorageError,
    StoreUnavailable,
    UploadClosed,
    UploadRejected,
    WrongMethod,
    attachment,
    validate_key,
)
from .local import Grant, LocalStore, UrlSigner, response_headers

if TYPE_CHECKING:
    from .s3 import S3Store

__all__ = [
    "ExpiredSignature",
    "Grant",
    "IntegrityError",
    "InvalidKey",
    "InvalidSignature",
    "LocalStore",
    "Method",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectReader",
    "ObjectStore",
    "PresignedRequest",
    "S3Store",
    "SignatureError",
    "StorageError",
    "StoreUnavailable",
    "UploadClosed",
    "UploadRejected",
    "UrlSigner",
    "WrongMethod",
    "attachment",
    "open_store",
    "response_headers",
    "store_from_url",
    "validate_key",
]

_S3_OPTIONS = {"endpoint", "region", "addressing", "public_endpoint", "create_bucket"}


def __getattr__(name: str) -> Any:
    if name == "S3Store":  # keep botocore out of local-only installs
        from .s3 import S3Store

        return S3Store
    raise AttributeError(name)


def store_from_url(
    url: str | os.PathLike[str],
    *,
    signing_secret: bytes | str | None = None,
    public_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    create_bucket: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> ObjectStore:
    """Build the store a setting names, without I/O; call `await store.setup()` before use.

    `signing_secret` and `public_url` serve the local store (its URL signatures and the origin
    of its routes); `access_key`/`secret_key` the S3 store, ahead of the environment. `env`
    replaces `os.environ` (tests). `create_bucket` overrides the URL's option.
    """
    environ = os.environ if env is None else env
    text = os.fspath(url)
    if "://" not in text:
        return _local(Path(text).expanduser(), signing_secret, public_url)
    parts = urlsplit(text)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or parts.query:
            raise ValueError(f"a file storage URL is file:///absolute/path, not {text!r}")
        return _local(Path(unquote(parts.path)), signing_secret, public_url)
    if parts.scheme != "s3":
        raise ValueError(f"storage URL must be file://, s3:// or a path, not {text!r}")
    if not parts.netloc:
        raise ValueError(f"an s3 storage URL names a bucket: s3://bucket?..., not {text!r}")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = set(query) - _S3_OPTIONS
    if unknown:
        raise ValueError(f"unknown s3 storage option(s): {', '.join(sorted(unknown))}")
    endpoint = query.get("endpoint") or None
    addressing = query.get("addressing") or ("path" if endpoint else "auto")
    if addressing not in ("path", "virtual", "auto"):
        raise ValueError("addressing must be path, virtual or auto")
    prefix = unquote(parts.path).strip("/")
    if create_bucket is None:
        create_bucket = _flag(query.get("create_bucket", "true"))
    region = (
        query.get("region")
        or environ.get("AWS_REGION")
        or environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )
    use_moderately_env = "MODERATELY_S3_ACCESS_KEY" in environ
    access = access_key or (
        environ.get("MODERATELY_S3_ACCESS_KEY")
        if use_moderately_env
        else environ.get("AWS_ACCESS_KEY_ID")
    )
    secret = secret_key or (
        environ.get("MODERATELY_S3_SECRET_KEY")
        if use_moderately_env
        else environ.get("AWS_SECRET_ACCESS_KEY")
    )
    token = None if use_moderately_env or access_key else environ.get("AWS_SESSION_TOKEN")
    try:
        from .s3 import S3Store
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RuntimeError("s3:// storage needs botocore: pip install 'moderately[s3]'") from exc
    return S3Store(
        parts.netloc,
        endpoint_url=endpoint,
        region=region,
        access_key=access,
        secret_key=secret,
        session_token=token,
        addressing_style=addressing,  # type: ignore[arg-type]
        prefix=f"{prefix}/" if prefix else "",
        public_endpoint_url=query.get("public_endpoint") or None,
        create_bucket=create_bucket,
    )


async def open_store(
    url: str | os.PathLike[str],
    **kwargs: Any,
) -> ObjectStore:
    """`store_from_url` followed by `setup` (directories made, bucket checked or created)."""
    store = store_from_url(url, **kwargs)
    await store.setup()
    return store


def _local(path: Path, secret: bytes | str | None, public_url: str | None) -> LocalStore:
    if not path.is_absolute():
        path = path.absolute()
    if secret is None:
        raise ValueError("the local store needs signing_secret to sign its URLs")
    return LocalStore(path, signing_secret=secret, public_url=public_url)


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, not {value!r}")

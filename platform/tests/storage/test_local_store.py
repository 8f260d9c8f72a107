"""What only the local store has: its URL signer, its upload receiver, its on-disk layout."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from storage_helpers import chunks_of, tmp_files

from moderately.storage import (
    ExpiredSignature,
    Grant,
    InvalidKey,
    InvalidSignature,
    LocalStore,
    ObjectNotFound,
    UploadClosed,
    UploadRejected,
    UrlSigner,
    WrongMethod,
    attachment,
    response_headers,
)

pytestmark = pytest.mark.anyio

SECRET = "a-local-secret-of-some-length"
NOW = 1_800_000_000.0


@pytest.fixture
async def store(tmp_path: Path) -> LocalStore:
    store = LocalStore(
        tmp_path / "objects", signing_secret=SECRET, public_url="http://h/_s", fsync=False
    )
    await store.setup()
    return store


def token_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


# --- the signer ----------------------------------------------------------------------------


def signer(now: float = NOW) -> UrlSigner:
    return UrlSigner(SECRET, clock=lambda: now)


def test_verify_accepts_what_was_signed() -> None:
    grant = Grant("PUT", "a/b", int(NOW) + 60, 10, "ab" * 32, "text/csv")
    signature = signer().sign(grant)
    verified = signer().verify(
        "PUT", "a/b", grant.expires, 10, signature, sha256="ab" * 32, content_type="text/csv"
    )
    assert verified == grant
    assert signer().verify_token("PUT", signer().token(grant)) == grant


@pytest.mark.parametrize(
    "field, value",
    [("key", "a/c"), ("expires", int(NOW) + 61), ("size", 11), ("sha256", "cd" * 32)],
)
def test_verify_refuses_any_altered_field(field: str, value: object) -> None:
    grant = Grant("PUT", "a/b", int(NOW) + 60, 10, "ab" * 32)
    signature = signer().sign(grant)
    fields = {"key": "a/b", "expires": grant.expires, "size": 10, "sha256": "ab" * 32}
    fields[field] = value
    with pytest.raises(InvalidSignature):
        signer().verify(
            "PUT",
            fields["key"],  # type: ignore[arg-type]
            fields["expires"],  # type: ignore[arg-type]
            fields["size"],  # type: ignore[arg-type]
            signature,
            sha256=fields["sha256"],  # type: ignore[arg-type]
        )


def test_verify_names_expiry_and_wrong_method() -> None:
    grant = Grant("GET", "k", int(NOW) + 60)
    signature = signer().sign(grant)
    with pytest.raises(WrongMethod, match="signed for GET"):
        signer().verify("PUT", "k", grant.expires, None, signature)
    with pytest.raises(WrongMethod):
        signer().verify("DELETE", "k", grant.expires, None, signature)
    assert signer(NOW + 60).verify("GET", "k", grant.expires, None, signature) == grant
    with pytest.raises(ExpiredSignature):
        signer(NOW + 61).verify("GET", "k", grant.expires, None, signature)


def test_other_secret_and_malformed_tokens_are_refused() -> None:
    grant = Grant("GET", "k", int(NOW) + 60)
    token = UrlSigner("another-secret-of-length").token(grant)
    with pytest.raises(InvalidSignature):
        signer().verify_token("GET", token)
    for bad in ["", "nodot", "!!!.abc", signer().token(grant)[:-1], "a2V5.00"]:
        with pytest.raises(InvalidSignature):
            signer().verify_token("GET", bad)


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValueError):
        UrlSigner("short")


# --- the receiver --------------------------------------------------------------------------


async def put_token(store: LocalStore, key: str, size: int, sha256: str | None = None) -> str:
    request = await store.presign("PUT", key, expires_in=60, content_length=size, sha256=sha256)
    return token_of(request.url)


@pytest.mark.parametrize("sent", [9, 11])
async def test_receive_counts_a_stream_without_length(store: LocalStore, sent: int) -> None:
    token = await put_token(store, "k", 10)
    with pytest.raises(UploadRejected):
        await store.receive(token, chunks_of(b"x" * sent, 3))
    assert tmp_files(store) == []
    with pytest.raises(ObjectNotFound):
        await store.commit("k")


async def test_receive_stops_reading_at_the_first_excess_chunk(store: LocalStore) -> None:
    token = await put_token(store, "k", 10)
    read = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal read
        while True:
            read += 4
            yield b"abcd"

    with pytest.raises(UploadRejected):
        await store.receive(token, endless())
    assert read == 12
    assert tmp_files(store) == []


async def test_receive_refuses_a_wrong_content_length_before_reading(store: LocalStore) -> None:
    token = await put_token(store, "k", 10)

    async def must_not_be_read() -> AsyncIterator[bytes]:
        raise AssertionError("body read")
        yield b""  # pragma: no cover

    with pytest.raises(UploadRejected):
        await store.receive(token, must_not_be_read(), content_length=11)


async def test_an_interrupted_upload_leaves_nothing(store: LocalStore) -> None:
    await store.receive(await put_token(store, "k", 3), chunks_of(b"old"))
    token = await put_token(store, "k", 2 * 1024 * 1024)

    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * (1024 * 1024 + 1)  # enough to reach the disk
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.receive(token, broken())
    assert tmp_files(store) == []
    assert (await store.commit("k", size=3)).size == 3  # the earlier upload is untouched


async def test_a_cancelled_upload_leaves_nothing(store: LocalStore) -> None:
    token = await put_token(store, "k", 10 * 1024 * 1024)
    started = anyio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield b"x" * (2 * 1024 * 1024)
        started.set()
        await anyio.sleep(60)
        yield b""  # pragma: no cover

    async with anyio.create_task_group() as tg:
        tg.start_soon(store.receive, token, slow())
        await started.wait()
        tg.cancel_scope.cancel()
    assert tmp_files(store) == []


async def test_a_signed_checksum_refuses_other_bytes(store: LocalStore) -> None:
    good = b"0123456789"
    token = await put_token(store, "k", 10, sha256=hashlib.sha256(good).hexdigest())
    with pytest.raises(UploadRejected, match="SHA-256"):
        await store.receive(token, chunks_of(b"9876543210"))
    assert tmp_files(store) == []
    info = await store.receive(token, chunks_of(good))
    assert info.sha256 == hashlib.sha256(good).hexdigest()


async def test_served_headers_keep_browsers_safe(store: LocalStore) -> None:
    await store.put("page", chunks_of(b"<script>alert(1)</script>"), content_type="text/html")
    request = await store.presign("GET", "page", expires_in=60)
    reader = await store.serve(token_of(request.url))
    headers = response_headers(reader.info)
    await reader.aclose()
    assert headers["Content-Length"] == "25"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"] == "attachment"
    assert headers["Content-Type"] == "text/html"  # only ever downloaded, never shown


# --- the layout ----------------------------------------------------------------------------


async def test_keys_stay_inside_the_root(store: LocalStore, tmp_path: Path) -> None:
    await store.put("teams/t1/files/f1", chunks_of(b"data"))
    assert (store.root / "objects/teams/t1/files/f1").read_bytes() == b"data"
    for bad in ["../escape", "a/../../escape", "/etc/passwd", "a\\..\\b"]:
        with pytest.raises(InvalidKey):
            await store.put(bad, chunks_of(b"x"))
    files = {p.relative_to(tmp_path).parts[0] for p in tmp_path.rglob("*") if p.is_file()}
    assert files == {"objects"}


async def test_a_key_cannot_be_both_object_and_prefix(store: LocalStore) -> None:
    await store.put("a/b", chunks_of(b"1"))
    with pytest.raises(InvalidKey):
        await store.put("a", chunks_of(b"2"))
    assert tmp_files(store) == []
    assert await store.head("a") is None
    await store.delete("a")  # nothing of that name: fine
    assert await store.head("a/b") is not None


async def test_delete_prunes_empty_directories(store: LocalStore) -> None:
    await store.put("x/y/z", chunks_of(b"1"))
    await store.delete("x/y/z")
    assert list((store.root / "objects").iterdir()) == []
    assert list((store.root / "meta" / "objects").iterdir()) == []


async def test_stale_metadata_is_not_trusted(store: LocalStore) -> None:
    """If a data file is replaced behind the store's back, its recorded hash is ignored."""
    await store.receive(await put_token(store, "k", 4), chunks_of(b"good"))
    upload = store.root / "uploads" / "k"
    replacement = upload.with_name("replacement")
    replacement.write_bytes(b"evil")
    os.replace(replacement, upload)
    with pytest.raises(Exception, match="SHA-256"):
        await store.commit("k", size=4, sha256=hashlib.sha256(b"good").hexdigest())
    info = await store.head("k")
    assert info is None


async def test_presign_needs_an_origin(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, signing_secret=SECRET)
    with pytest.raises(ValueError, match="public_url"):
        await store.presign("GET", "k", expires_in=60)
    request = await store.presign("GET", "k", expires_in=60, base_url="https://api.example/_s/")
    assert request.url.startswith("https://api.example/_s/")
    assert "//" not in request.url.removeprefix("https://")


# --- single-use upload URLs ------------------------------------------------------------------


async def test_receive_refuses_a_closed_upload_before_reading(store: LocalStore) -> None:
    asked: list[str] = []

    async def closed(key: str) -> bool:
        asked.append(key)
        return False

    async def must_not_be_read() -> AsyncIterator[bytes]:
        raise AssertionError("body read")
        yield b""  # pragma: no cover

    with pytest.raises(UploadClosed):
        await store.receive(await put_token(store, "k", 3), must_not_be_read(), accepting=closed)
    assert asked == ["k"]
    with pytest.raises(ObjectNotFound):
        await store.commit("k")


async def test_an_upload_closed_while_its_body_arrived_keeps_nothing(store: LocalStore) -> None:
    """Completed, failed or deleted meanwhile: the bytes that landed are removed again."""
    answers = iter([True, False])

    async def closes_meanwhile(key: str) -> bool:
        return next(answers)

    with pytest.raises(UploadClosed):
        await store.receive(
            await put_token(store, "k", 3), chunks_of(b"abc"), accepting=closes_meanwhile
        )
    assert tmp_files(store) == []
    assert list((store.root / "uploads").iterdir()) == []
    with pytest.raises(ObjectNotFound):
        await store.commit("k")


# --- files on disk -----------------------------------------------------------------------------


async def test_everything_on_disk_is_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        store = LocalStore(tmp_path / "data" / "objects", signing_secret=SECRET, public_url="h")
        await store.setup()
        await store.put("teams/t/files/f", chunks_of(b"object"))
        await store.receive(await put_token(store, "teams/t/files/g", 6), chunks_of(b"upload"))
        await store.receive(await put_token(store, "teams/t/files/h", 6), chunks_of(b"commit"))
        await store.commit("teams/t/files/h", size=6)
    finally:
        os.umask(previous)
    paths = [tmp_path / "data", *(tmp_path / "data").rglob("*")]
    assert sum(p.is_file() for p in paths) == 6  # three data files, three metadata files
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in paths}
    assert {p: oct(m) for p, m in modes.items() if m != (0o700 if p.is_dir() else 0o600)} == {}


# --- prefixes and stale uploads -------------------------------------------------------------


async def test_delete_prefix_leaves_no_directories_behind(store: LocalStore) -> None:
    await store.put("teams/t/files/f", chunks_of(b"1"))
    await store.receive(await put_token(store, "teams/t/files/g", 1), chunks_of(b"2"))
    await store.put("teams/u/files/f", chunks_of(b"kept"))
    assert await store.delete_prefix("teams/t/") == 1
    for area in ("objects", "uploads", "meta/objects", "meta/uploads"):
        assert not (store.root / area / "teams" / "t").exists()
    assert tmp_files(store) == []
    assert await store.exists("teams/u/files/f")


async def test_download_tokens_carry_the_file_name(store: LocalStore) -> None:
    await store.put("k", chunks_of(b"x"))
    for name in ("plain.txt", "new\nline ünïcode/slash %.csv"):
        request = await store.presign("GET", "k", expires_in=60, file_name=name)
        grant = store.signer.verify_token("GET", token_of(request.url))
        assert grant.file_name == name
        reader = await store.serve(token_of(request.url))
        await reader.aclose()
        assert response_headers(reader.info)["Content-Disposition"] == attachment(name)
    # Tokens made before file names were signed still verify (an upload of unknown size too).
    old = Grant("PUT", "k", int(NOW) + 60, None, None, None, 100)
    assert signer().verify_token("PUT", signer().token(old)) == old
    named = signer().token(Grant("GET", "k", int(NOW) + 60, file_name="a.txt"))
    other = signer().token(Grant("GET", "k", int(NOW) + 60, file_name="b.txt"))
    swapped = f"{other.rsplit('.', 1)[0]}.{named.rsplit('.', 1)[1]}"
    with pytest.raises(InvalidSignature):  # the name is signed: it cannot be swapped
        signer().verify_token("GET", swapped)

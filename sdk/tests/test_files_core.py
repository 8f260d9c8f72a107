"""The no-I/O file decisions: names, MIME types, hashes, the status vocabulary, storage errors."""

import io
from pathlib import Path
from typing import Optional

import httpx
import pytest

from moderatelyai_sdk import APIError, ModeratelyAI, NotFoundError, PermissionDeniedError
from moderatelyai_sdk._base_client import cleanup_options, follow_up_options, lookup_options
from moderatelyai_sdk._files import (
    MissingFileError,
    detect_mime_type,
    download_target,
    known_size,
    normalize_hash,
    sniff_mime_type,
    storage_error,
    upload_name,
    upload_status,
    upload_target,
)

HEX = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(
    ("given", "path", "expected"),
    [
        (None, "/data/report.pdf", "report.pdf"),
        ("Sample Data File", "/data/data.txt", "Sample Data File.txt"),
        ("Sample.TXT", "/data/data.txt", "Sample.TXT"),
        ("Archive", "/data/archive", "Archive"),
        ("", "/data/a.csv", "a.csv"),
    ],
)
def test_name_of_a_path(given: Optional[str], path: str, expected: str) -> None:
    assert upload_name(given, path=path) == expected


def test_name_of_bytes_and_objects() -> None:
    assert upload_name(None) == "uploaded_file"
    assert upload_name("notes.md") == "notes.md"
    assert upload_name(None, source_name="/tmp/in/table.csv") == "table.csv"
    assert upload_name(None, source_name=Path("x/y.json")) == "y.json"
    assert upload_name("Given", source_name="/tmp/table.csv") == "Given"
    assert upload_name(None, source_name="<stdin>") == "uploaded_file"
    assert upload_name(None, source_name=3) == "uploaded_file"  # a file opened from an fd


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"%PDF-1.7\n%\xe2\xe3", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"\x1f\x8b\x08\x00", "application/gzip"),
        (b"id,name,amount\n1,Ada,3.5\n2,Grace,4\n", "text/csv"),
        (b"id;name\r\n1;Ada\r\n", "text/csv"),
        (b"Hello, world.\nNothing tabular here\n", "text/plain"),
        ("Gr\u00fc\u00dfe aus K\u00f6ln\n".encode(), "text/plain"),
        (b"\x00\x01\x02\x03binary", None),
        (b"", None),
    ],
)
def test_sniffing(head: bytes, expected: Optional[str]) -> None:
    assert sniff_mime_type(head) == expected


def test_csv_sniffing_ignores_a_cut_last_line() -> None:
    head = b"a,b,c\n" * 400 + b"1,2"  # longer than the sample: the tail is partial
    assert sniff_mime_type(head[:2048]) == "text/csv"


def test_text_cut_inside_a_character_is_still_text() -> None:
    head = ("\u00e9" * 1024).encode()[:2047]
    assert sniff_mime_type(head) == "text/plain"


def test_mime_type_from_the_name_first() -> None:
    assert detect_mime_type("a.csv", b"%PDF-") == "text/csv"
    assert detect_mime_type("photo.JPG", b"") == "image/jpeg"
    assert detect_mime_type("uploaded_file", b"%PDF-1.4") == "application/pdf"
    assert detect_mime_type("blob.bin", b"a,b\n1,2\n") == "text/csv"  # .bin says nothing
    assert detect_mime_type("uploaded_file", b"\x00\x01") == "application/octet-stream"
    assert detect_mime_type("empty", b"") == "application/octet-stream"


def test_hash_normalisation() -> None:
    assert normalize_hash(HEX) == HEX
    assert normalize_hash("SHA256:" + HEX.upper()) == HEX
    assert normalize_hash(" sha256:" + HEX + " ") == HEX
    assert normalize_hash("abc") is None
    assert normalize_hash(None) is None and normalize_hash("") is None


@pytest.mark.parametrize(
    ("word", "wire"),
    [
        ("completed", "completed"),
        ("ready", "completed"),
        ("uploaded", "completed"),
        ("pending", "pending"),
        ("processing", "pending"),
        ("failed", "failed"),
        ("ERROR", "failed"),
        ("weird", "weird"),
        (None, None),
    ],
)
def test_status_vocabulary(word: Optional[str], wire: Optional[str]) -> None:
    assert upload_status(word) == wire


def test_missing_file_error_is_both_kinds() -> None:
    error = MissingFileError(2, "No such file to upload", "/x")
    assert isinstance(error, FileNotFoundError) and isinstance(error, ValueError)
    assert str(error) == "[Errno 2] No such file to upload: '/x'"


def test_storage_error_from_s3_xml() -> None:
    xml = (
        '<?xml version="1.0"?><Error><Code>AccessDenied</Code>'
        "<Message>Request has expired</Message></Error>"
    )
    error = storage_error(httpx.Response(403, text=xml), "upload")
    assert isinstance(error, PermissionDeniedError)
    assert "refused the presigned upload URL" in error.message
    assert "AccessDenied: Request has expired" in error.message
    assert error.status_code == 403


def test_storage_error_from_the_local_store_json() -> None:
    body = {"error": {"code": "FORBIDDEN", "message": "the URL has expired"}}
    error = storage_error(httpx.Response(403, json=body), "download")
    assert isinstance(error, PermissionDeniedError)
    assert "presigned download URL (HTTP 403: the URL has expired)" in str(error)
    missing = storage_error(httpx.Response(404, text=""), "download")
    assert isinstance(missing, NotFoundError) and "no object" in missing.message
    other = storage_error(httpx.Response(500, text="boom"), "upload")
    assert (
        type(other) is APIError and other.message == "The presigned upload failed (HTTP 500: boom)"
    )


class AsyncReader:
    async def read(self, size: int = -1) -> bytes:
        return b""


def test_the_sync_client_refuses_an_async_reader() -> None:
    client = ModeratelyAI(api_key="k", team_id="t", base_url="http://127.0.0.1:9")
    with client, pytest.raises(TypeError, match=r"read\(\) is async: upload it with Async"):
        client.files.upload(AsyncReader())


def test_a_text_stream_is_encoded_as_utf8() -> None:
    from moderatelyai_sdk._sync._streams import _digest_file

    digest = _digest_file(io.StringIO("h\u00e9llo"))
    assert (digest.size, digest.head) == (6, "h\u00e9llo".encode())


def test_options_of_a_transfers_requests() -> None:
    given = {
        "timeout": 5.0,
        "max_retries": 2,
        "extra_headers": {"X-A": "1"},
        "extra_query": {"q": 1},
        "extra_body": {"b": 1},
        "idempotency_key": "k",
    }
    lookup = {
        "timeout": 5.0,
        "max_retries": 2,
        "extra_headers": {"X-A": "1"},
        "extra_query": {"q": 1},
    }
    assert lookup_options(given) == lookup  # type: ignore[arg-type]
    assert follow_up_options(given) == {**lookup, "extra_body": {"b": 1}}  # type: ignore[arg-type]
    assert cleanup_options(given) == {**lookup, "max_retries": 0}  # type: ignore[arg-type]
    assert cleanup_options({}) == {"max_retries": 0}


def test_reading_the_servers_transfer_answers() -> None:
    created = {"file": {"fileId": "f_1"}, "uploadUrl": "http://s/u", "uploadHeaders": {"x": 1}}
    assert upload_target(created, "file", "fileId", "POST /files/upload-url") == (
        {"fileId": "f_1"},
        "f_1",
        "http://s/u",
        {"x": "1"},
    )
    with pytest.raises(APIError, match="Unexpected answer to POST /x: no file or uploadUrl"):
        upload_target({"file": {}}, "file", "fileId", "POST /x")
    assert download_target({"downloadUrl": "http://s/d"}, "GET /d")[1] == "http://s/d"
    with pytest.raises(APIError, match="no downloadUrl"):
        download_target(None, "GET /d")
    assert [known_size(v) for v in (3, None, True, "3")] == [3, -1, -1, -1]

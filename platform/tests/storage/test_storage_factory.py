"""`store_from_url`: the one place a storage setting becomes a store. No I/O here."""

from __future__ import annotations

from pathlib import Path

import pytest

from moderately.storage import LocalStore, S3Store, store_from_url

SECRET = "factory-test-secret-123"


def test_plain_and_file_paths_give_a_local_store(tmp_path: Path) -> None:
    urls: list[str | Path] = [str(tmp_path / "objs"), tmp_path / "objs", f"file://{tmp_path}/objs"]
    for url in urls:
        store = store_from_url(url, signing_secret=SECRET, public_url="http://x/_storage")
        assert isinstance(store, LocalStore)
        assert store.root == tmp_path / "objs"
        assert store.public_url == "http://x/_storage"


def test_relative_paths_are_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = store_from_url("data/objects", signing_secret=SECRET)
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "data" / "objects"


@pytest.mark.parametrize(
    "url, message",
    [
        ("file://somehost/x", "file:///absolute"),
        ("ftp://bucket", "file://, s3://"),
        ("s3://", "names a bucket"),
        ("s3://b?endpont=http://x", "unknown s3 storage option"),
        ("s3://b?addressing=sideways", "addressing"),
        ("s3://b?create_bucket=maybe", "true or false"),
    ],
)
def test_bad_urls_are_explained(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store_from_url(url, signing_secret=SECRET, env={})


def test_the_local_store_needs_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="signing_secret"):
        store_from_url(tmp_path)


def test_s3_options() -> None:
    store = store_from_url(
        "s3://my-bucket/some/prefix/?endpoint=http://10.0.0.5:8333&region=eu-west-1"
        "&public_endpoint=https://files.example.com&create_bucket=false",
        env={"MODERATELY_S3_ACCESS_KEY": "k", "MODERATELY_S3_SECRET_KEY": "s"},
    )
    assert isinstance(store, S3Store)
    assert (store.bucket, store.prefix, store.region) == ("my-bucket", "some/prefix/", "eu-west-1")
    assert store.endpoint_url == "http://10.0.0.5:8333"
    assert store.create_bucket is False


def test_s3_region_defaults() -> None:
    store = store_from_url("s3://b", env={"AWS_DEFAULT_REGION": "ap-south-1"})
    assert isinstance(store, S3Store) and store.region == "ap-south-1"
    store = store_from_url("s3://b", env={})
    assert isinstance(store, S3Store) and store.region == "us-east-1"

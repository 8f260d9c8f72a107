"""What the server keeps on disk and in the bucket, end to end over real HTTP on SQLite + local
store and PostgreSQL + S3 (SeaweedFS):

* files on disk are the server user's alone: 0700 directories, 0600 files, from the first byte;
* an upload URL is single use: a PUT after the upload completed, was deleted, or was failed by
  the sweep changes nothing and leaves no bytes (the local store refuses it with 403; S3 cannot
  revoke a presigned URL, so there the bytes wait in the upload area until the sweep);
* every deletion removes the objects its rows owned, listed straight from the disk or bucket;
* downloads are attachments under the file's name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_helpers import assert_error
from datasets_helpers import create_dataset, start_upload, upload_data
from files_helpers import (
    Member,
    complete,
    download,
    get,
    key_of,
    member,
    put,
    request_upload,
    server_store,
    stored_keys,
    upload,
)
from live_servers import CONFIGURATIONS, start_live_server
from pipelines_helpers import graph, run_configuration

from moderately.composition import storage_for
from moderately.db.session import Database
from moderately.services import files as files_service
from moderately.services import transfers
from moderately.storage import LocalStore, ObjectStore, attachment
from moderately.testing import RunningServer, run_server
from moderately.timeutil import utcnow

pytestmark = pytest.mark.anyio

INLINE_LIMIT = 4096
# Over the artifact block's inline limit (64 KiB), so the run stores an artifact object too.
LARGE_TEXT = "x" * (70 * 1024)


@pytest.fixture(scope="module", params=CONFIGURATIONS)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    """A server of this module's own: its periodic sweep runs once at start, then the tests
    run it when they mean to (sweeping everything stale in the bucket is theirs to do)."""
    options = {
        "pipeline_inline_output_bytes": INLINE_LIMIT,
        "workers": 1,
        "upload_sweep_interval_seconds": 3600,
    }
    with start_live_server(
        request, tmp_path_factory, "ownership", prefix="ownership", **options
    ) as running:
        yield running


@pytest.fixture
async def alice(server: RunningServer) -> AsyncIterator[Member]:
    async with member(server) as who:
        yield who


@pytest.fixture
async def store(server: RunningServer) -> AsyncIterator[ObjectStore]:
    async with server_store(server) as opened:
        yield opened


async def sweep(server: RunningServer, store: ObjectStore) -> None:
    """The periodic sweep's clean-up of the upload area, as it runs once no URL issued now
    can be used any more."""
    settings = server.settings
    later = utcnow() + timedelta(
        seconds=settings.upload_url_ttl_seconds + settings.pending_upload_grace_seconds + 60
    )
    await transfers.remove_stale_uploads(storage_for(settings, store), now=later)


async def assert_late_put_refused(
    store: ObjectStore, url: str, data: bytes, key: str, *, kept: list[str]
) -> None:
    """A PUT to a used-up upload URL: the local store answers 403 and keeps no byte; S3 takes
    the bytes into its upload area only. Either way what is stored under `key` is `kept`."""
    response = await put(url, data)
    if isinstance(store, LocalStore):
        body = assert_error(response, 403, "FORBIDDEN")
        assert "no longer valid" in body["message"]
        assert await stored_keys(store, key) == kept
    else:
        assert response.status_code == 200
        assert await stored_keys(store, key) == sorted([*kept, f"upload:{key}"])


# ---- files on disk ----


async def test_files_on_disk_are_private(tmp_path: Path) -> None:
    """A fresh data dir under a permissive umask: the database (and its -wal and -shm), the
    secrets, every stored object and upload, every directory: 0600 files, 0700 directories."""
    data_dir = tmp_path / "fresh" / "data"
    previous = os.umask(0o022)
    try:
        # (The server runs on a thread of its own; this test's loop only makes requests.)
        with run_server(data_dir=data_dir, workers=0) as running:
            async with member(running) as who:
                await upload(who, b"stored bytes", fileName="stored.txt")
                pending = await request_upload(who, b"waiting bytes")
                assert (await put(pending["uploadUrl"], b"waiting bytes")).status_code == 200
            names = {p.name for p in data_dir.iterdir()}
            assert {"moderately.db", "moderately.db-wal", "moderately.db-shm"} <= names
            assert {"signing_secret", "objects"} <= names
            modes = {
                path.relative_to(tmp_path).as_posix(): stat.S_IMODE(path.lstat().st_mode)
                for path in [data_dir.parent, *data_dir.parent.rglob("*")]
            }
    finally:
        os.umask(previous)
    stored = [name for name in modes if "/objects/objects/teams/" in name]
    assert any(name.endswith("/files") for name in stored)  # a committed object's directory
    assert any("/objects/uploads/teams/" in name for name in modes)  # an upload waiting
    wrong = {
        name: oct(mode)
        for name, mode in modes.items()
        if mode != (0o700 if (tmp_path / name).is_dir() else 0o600)
    }
    assert wrong == {}


# ---- upload URLs are single use ----


async def test_upload_urls_are_single_use_after_complete(
    server: RunningServer, alice: Member, store: ObjectStore
) -> None:
    ticket = await request_upload(alice, b"first try", fileHash=None)
    # Before completion a PUT may be repeated: the last one counts.
    assert (await put(ticket["uploadUrl"], b"first try")).status_code == 200
    assert (await put(ticket["uploadUrl"], b"final try")).status_code == 200
    done = await complete(alice, ticket["file"]["fileId"], b"final try")
    assert done.status_code == 200, done.text
    key = key_of(done.json())
    await assert_late_put_refused(store, ticket["uploadUrl"], b"other try", key, kept=[key])
    assert (await download(alice, done.json()["fileId"])).content == b"final try"
    await sweep(server, store)
    assert await stored_keys(store, key) == [key]
    assert (await download(alice, done.json()["fileId"])).content == b"final try"


async def test_upload_urls_are_single_use_after_delete(
    server: RunningServer, alice: Member, store: ObjectStore
) -> None:
    pending = await request_upload(alice, b"half way")
    assert (await put(pending["uploadUrl"], b"half way")).status_code == 200
    completed = await request_upload(alice, b"all done")
    assert (await put(completed["uploadUrl"], b"all done")).status_code == 200
    done = await complete(alice, completed["file"]["fileId"], b"all done")
    assert done.status_code == 200, done.text
    for ticket, data in ((pending, b"half way"), (completed, b"all done")):
        file_id = ticket["file"]["fileId"]
        assert (await alice.client.delete(f"/files/{file_id}")).status_code == 204
        key = key_of(ticket["file"])
        assert await stored_keys(store, key) == []
        await assert_late_put_refused(store, ticket["uploadUrl"], data, key, kept=[])
        assert_error(await complete(alice, file_id, data), 404)
    await sweep(server, store)
    for ticket in (pending, completed):
        assert await stored_keys(store, key_of(ticket["file"])) == []


async def test_upload_urls_are_single_use_after_the_sweep(
    server: RunningServer, alice: Member, store: ObjectStore
) -> None:
    ticket = await request_upload(alice, b"forgotten")
    assert (await put(ticket["uploadUrl"], b"forgotten")).status_code == 200
    key = key_of(ticket["file"])
    storage = storage_for(server.settings, store)
    later = utcnow() + timedelta(
        seconds=storage.upload_ttl_seconds + storage.pending_grace_seconds + 60
    )
    database = Database(server.settings)
    try:
        assert await files_service.expire_pending_uploads(database, storage, now=later) >= 1
    finally:
        await database.dispose()
    assert await stored_keys(store, key) == []
    # The URL itself has not expired yet (it is the clock of the sweep that moved on).
    await assert_late_put_refused(store, ticket["uploadUrl"], b"forgotten", key, kept=[])
    await sweep(server, store)
    assert await stored_keys(store, key) == []


async def test_data_version_upload_urls_are_single_use(
    server: RunningServer, alice: Member, store: ObjectStore
) -> None:
    dataset = await create_dataset(alice, "single use")
    ticket = await start_upload(alice, dataset["datasetId"])
    csv = b"a,b\n1,2\n"
    assert (await put(ticket["uploadUrl"], csv, {"Content-Type": "text/csv"})).status_code == 200
    version_id = ticket["dataVersion"]["datasetDataVersionId"]
    done = await alice.client.post(f"/dataset-data-versions/{version_id}/complete", json={})
    assert done.status_code == 200, done.text
    key = f"teams/{alice.team_id}/datasets/{dataset['datasetId']}/data-versions/{version_id}"
    await assert_late_put_refused(store, ticket["uploadUrl"], b"x,y\n", key, kept=[key])
    await sweep(server, store)
    assert await stored_keys(store, key) == [key]


# ---- downloads ----


async def test_downloads_are_attachments_under_the_file_name(alice: Member) -> None:
    name = 'Résumé "final".html'
    data = b"<script>alert(1)</script>"
    ticket = await request_upload(alice, data, fileName=name, mimeType="text/html")
    response = await put(ticket["uploadUrl"], data, {"Content-Type": "text/plain"})
    assert response.status_code == 200
    done = await complete(alice, ticket["file"]["fileId"], data)
    assert done.status_code == 200, done.text
    fetched = await download(alice, ticket["file"]["fileId"])
    assert fetched.content == data
    disposition = fetched.headers["content-disposition"]
    assert disposition == attachment(name)
    assert disposition.startswith('attachment; filename="Resume _final_.html"; ')
    assert disposition.endswith("filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.html")
    # The row's type, not the one the PUT carried.
    assert fetched.headers["content-type"] == "text/html"


async def test_local_downloads_are_not_sniffed(alice: Member, store: ObjectStore) -> None:
    if not isinstance(store, LocalStore):
        pytest.skip("S3 cannot add X-Content-Type-Options to a presigned GET")
    done = await upload(alice, b"plain", fileName="a.txt", mimeType="text/plain")
    fetched = await download(alice, done["fileId"])
    assert fetched.headers["x-content-type-options"] == "nosniff"
    assert fetched.headers["content-disposition"] == attachment("a.txt")


# ---- deletions remove the objects their rows owned ----


async def test_deleting_a_dataset_removes_its_objects(alice: Member, store: ObjectStore) -> None:
    dataset = await create_dataset(alice, "doomed")
    await upload_data(alice, dataset["datasetId"], b"a\n1\n")
    await upload_data(alice, dataset["datasetId"], b"a\n2\n", status="draft")
    pending = await start_upload(alice, dataset["datasetId"], status="draft")
    assert (await put(pending["uploadUrl"], b"a\n3\n")).status_code == 200
    prefix = f"teams/{alice.team_id}/datasets/{dataset['datasetId']}/"
    assert len(await stored_keys(store, prefix)) == 3  # two data versions, one upload waiting
    response = await alice.client.delete(f"/datasets/{dataset['datasetId']}")
    assert response.status_code == 200, response.text
    assert await stored_keys(store, prefix) == []
    await assert_late_put_refused(
        store, pending["uploadUrl"], b"a\n3\n", _version_key(prefix, pending), kept=[]
    )


def _version_key(prefix: str, ticket: dict[str, Any]) -> str:
    return f"{prefix}data-versions/{ticket['dataVersion']['datasetDataVersionId']}"


async def stored_run(who: Member, store: ObjectStore, name: str) -> dict[str, Any]:
    """A finished execution that stored an artifact and its output in the object store."""
    configuration = graph(
        {
            "in": ("input", {"json_schema": {"type": "string"}}),
            "keep": ("artifact", {"name": "kept"}),
            "out": ("output", {"name": "text"}),
        },
        [("in", "data", "keep", "data"), ("keep", "data", "out", "data")],
    )
    done = await run_configuration(who.client, configuration, {"in": LARGE_TEXT}, name)
    assert done["status"] == "completed", done["progressData"]
    prefix = f"pipeline-executions/{done['pipelineExecutionId']}/"
    assert await stored_keys(store, prefix) == [
        f"{prefix}artifacts/kept.json",
        f"{prefix}output.json.gz",
    ]
    return done


@pytest.mark.parametrize("deleted", ["pipeline", "configuration version"])
async def test_deleting_pipelines_removes_what_their_executions_stored(
    alice: Member, store: ObjectStore, deleted: str
) -> None:
    done = await stored_run(alice, store, f"stored {deleted}")
    output = await alice.client.get(f"/pipeline-executions/{done['pipelineExecutionId']}/output")
    url = output.json()["downloadUrl"]
    if deleted == "pipeline":
        response = await alice.client.delete(f"/pipelines/{done['pipelineId']}")
    else:
        version_id = done["pipelineConfigurationVersionId"]
        response = await alice.client.delete(f"/pipeline-configuration-versions/{version_id}")
    assert response.status_code == 200, response.text
    assert await stored_keys(store, f"pipeline-executions/{done['pipelineExecutionId']}/") == []
    assert (await get(url)).status_code == 404


async def test_deleting_a_team_removes_everything_it_stored(
    server: RunningServer, store: ObjectStore
) -> None:
    async with member(server) as owner:
        await upload(owner, b"team bytes")
        waiting = await request_upload(owner, b"waiting")
        assert (await put(waiting["uploadUrl"], b"waiting")).status_code == 200
        dataset = await create_dataset(owner, "team data")
        await upload_data(owner, dataset["datasetId"], b"a\n1\n")
        done = await stored_run(owner, store, "team run")
        team_prefix = f"teams/{owner.team_id}/"
        assert len(await stored_keys(store, team_prefix)) == 3
        response = await owner.client.delete(f"/teams/{owner.team_id}")
        assert response.status_code == 200, response.text
    assert await stored_keys(store, team_prefix) == []
    assert await stored_keys(store, f"pipeline-executions/{done['pipelineExecutionId']}/") == []
    key = key_of(waiting["file"])
    await assert_late_put_refused(store, waiting["uploadUrl"], b"waiting", key, kept=[])
    await sweep(server, store)
    assert await stored_keys(store, team_prefix) == []

"""Requests answered by a worker job (services/job_requests.py, jobs/replies.py): schema inference
runs in a worker's `dataset.infer` job and writes its answer to `job_results`.

* on the live servers (SQLite with the local store, PostgreSQL with S3, worker processes):
  the answer comes through a job and its row; bad input answers 400 with the engine's message;
  another team's file and a pending upload answer at once, without a job; the same answer
  through procrastinate's workers;
* a server with no workers (`workers=0`): 503 once `infer_wait_seconds` has passed, and the job
  left in the queue expires (a worker claiming it later skips it);
* the plumbing on a database of its own: the answers of a job that failed for good (its
  attempts spent: 503; over a budget: 400 naming it), the first answer winning, the purge.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import POSTGRES_ADMIN_URL, assert_error
from datasets_helpers import ok
from files_helpers import Member, member, upload
from sqlalchemy import select

from moderately.composition import job_runtime
from moderately.config import Settings
from moderately.db.migrate import upgrade_to_head
from moderately.db.models import Job as JobRow
from moderately.db.models import JobResult
from moderately.db.session import Database
from moderately.errors import Invalid, Unavailable
from moderately.jobs import dataset_infer
from moderately.jobs.base import JobRuntime, Stop
from moderately.jobs.replies import KEEP_RESULTS, expired, write_reply
from moderately.services.dataset_schemas import INFER
from moderately.services.job_requests import REPLY_BY, run_and_wait
from moderately.testing import (
    RunningServer,
    create_postgres_database,
    drop_postgres_database,
    run_server,
)
from moderately.timeutil import utcnow
from moderately.workers import DbQueue, Job

pytestmark = pytest.mark.anyio

INFER_PATH = "/dataset-schema-versions/infer"
CSV = b"id,name,price\n1,Ann,1.5\n2,Bob,2\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"


@pytest.fixture
async def alice(live_server: RunningServer) -> AsyncIterator[Member]:
    async with member(live_server) as who:
        yield who


@pytest.fixture
async def bob(live_server: RunningServer) -> AsyncIterator[Member]:
    async with member(live_server) as who:
        yield who


@pytest.fixture
async def server_database(live_server: RunningServer) -> AsyncIterator[Database]:
    database = Database(live_server.settings)
    try:
        yield database
    finally:
        await database.dispose()


async def results_of(database: Database, team_id: str) -> list[JobResult]:
    async with database.session(write=False) as session:
        query = select(JobResult).where(JobResult.team_id == team_id)
        return list((await session.scalars(query.order_by(JobResult.created_at))).all())


async def infer_jobs_of(database: Database, team_id: str) -> list[JobRow]:
    async with database.session(write=False) as session:
        query = select(JobRow).where(JobRow.kind == INFER, JobRow.team_id == team_id)
        return list((await session.scalars(query)).all())


async def infer(who: Member, body: dict[str, Any]) -> httpx.Response:
    """The first job of a worker also starts its forkserver: slower than the client's default
    timeout on a busy machine."""
    return await who.client.post(INFER_PATH, json=body, timeout=60)


def as_job(row: JobRow) -> Job:
    """The job as a worker claiming it would see it."""
    return Job(row.job_id, row.kind, row.payload, 1, row.max_attempts, "w", team_id=row.team_id)


# ---- on the live servers ----


async def test_inference_is_answered_by_a_job(alice: Member, server_database: Database) -> None:
    file = await upload(alice, CSV, fileName="prices.csv")
    inferred = ok(await infer(alice, {"fileId": file["fileId"]}))
    assert [c["name"] for c in inferred["columns"]] == ["id", "name", "price"]
    assert (inferred["rowsSampled"], inferred["sampledAll"]) == (2, True)
    (row,) = await results_of(server_database, alice.team_id)
    assert row.error is None and row.error_status is None
    assert row.result is not None
    assert row.result["columns"] == inferred["columns"]
    assert row.result["parsingOptions"] == inferred["parsingOptions"]
    # The database queue's record of the job (on procrastinate it would be in its own tables).
    (job,) = await infer_jobs_of(server_database, alice.team_id)
    assert job.job_id == row.job_id
    assert job.payload["what"] == f"file {file['fileId']}" and REPLY_BY in job.payload


async def test_binary_input_is_refused_by_the_job(alice: Member, server_database: Database) -> None:
    png = await upload(alice, PNG, fileName="a.png", mimeType="image/png")
    error = assert_error(await infer(alice, {"fileId": png["fileId"]}), 400)
    assert error["message"] == (
        "only delimited text (CSV/TSV) can be inferred; this file looks like a PNG image "
        f"(file {png['fileId']})"
    )
    assert error["details"] == [{"field": "fileId", "message": error["message"]}]
    (row,) = await results_of(server_database, alice.team_id)
    assert (row.result, row.error_status, row.error) == (None, 400, error["message"])


async def test_requests_refused_up_front_queue_nothing(
    alice: Member, bob: Member, server_database: Database
) -> None:
    file = await upload(alice, CSV, fileName="mine.csv")
    assert_error(await bob.client.post(INFER_PATH, json={"fileId": file["fileId"]}), 404)
    pending = ok(
        await bob.client.post("/files/upload-url", json={"fileName": "p", "fileSize": 1}), 201
    )
    assert_error(await bob.client.post(INFER_PATH, json={"fileId": pending["file"]["fileId"]}), 400)
    bad = {"fileId": file["fileId"], "parsingOptions": {"encoding": "nope"}}
    assert_error(await alice.client.post(INFER_PATH, json=bad), 400)
    for team_id in (alice.team_id, bob.team_id):
        assert await infer_jobs_of(server_database, team_id) == []
        assert await results_of(server_database, team_id) == []


async def test_inference_through_procrastinate(tmp_path: Path) -> None:
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        with run_server(
            data_dir=tmp_path, database_url=url, job_backend="procrastinate", workers=1
        ) as server:
            async with member(server) as who:
                file = await upload(who, CSV, fileName="prices.csv")
                body = {"fileId": file["fileId"]}
                inferred = ok(await infer(who, body))
                assert [c["name"] for c in inferred["columns"]] == ["id", "name", "price"]
                database = Database(server.settings)
                try:
                    (row,) = await results_of(database, who.team_id)
                finally:
                    await database.dispose()
                assert row.result is not None and row.result["columns"] == inferred["columns"]
    finally:
        drop_postgres_database(url)


# ---- no worker ----


async def test_no_worker_answers_503_in_time_and_the_job_expires(tmp_path: Path) -> None:
    with run_server(data_dir=tmp_path, workers=0, infer_wait_seconds=0.3) as server:
        async with member(server) as who:
            file = await upload(who, CSV, fileName="waits.csv")
            started = time.monotonic()
            response = await who.client.post(INFER_PATH, json={"fileId": file["fileId"]})
            took = time.monotonic() - started
            error = assert_error(response, 503)
            assert took < 5, took
            assert "no worker took or finished the schema inference job" in error["message"]
            assert "MODERATELY_INFER_WAIT_SECONDS" in error["message"]
            assert response.headers["retry-after"]
            database = Database(server.settings)
            try:
                (row,) = await infer_jobs_of(database, who.team_id)
                assert row.status == "queued"
                job = as_job(row)
                # A worker that claims it later: nobody waits, so it is skipped unanswered.
                assert expired(job, utcnow() + timedelta(seconds=3))
                await asyncio.sleep(2.5)  # past replyBy and the allowance for clock skew
                async with job_runtime(server.settings) as runtime:
                    await dataset_infer.handlers(runtime)[INFER].run(job)
                assert await results_of(database, who.team_id) == []
            finally:
                await database.dispose()


# ---- the plumbing, on a database of its own ----


@pytest.fixture
async def own(tmp_path: Path) -> AsyncIterator[tuple[Database, DbQueue, JobRuntime]]:
    settings = Settings(data_dir=tmp_path)
    await asyncio.to_thread(upgrade_to_head, settings)
    database = Database(settings)
    try:
        yield database, DbQueue(database), JobRuntime(database, None, settings)  # type: ignore[arg-type]
    finally:
        await database.dispose()


async def queued_job(database: Database) -> Job:
    """The job a waiting request queued, as a worker would claim it."""
    for _ in range(200):
        async with database.session(write=False) as session:
            row = await session.scalar(select(JobRow).where(JobRow.kind == INFER))
        if row is not None:
            return as_job(row)
        await asyncio.sleep(0.01)
    raise AssertionError("no job was queued")


async def wait_in_background(
    database: Database, queue: DbQueue, **options: Any
) -> asyncio.Task[Any]:
    return asyncio.create_task(
        run_and_wait(database, queue, INFER, {"what": "x"}, team_id="t1", timeout=10, **options)
    )


async def test_a_job_that_fails_for_good_answers_with_its_reason(
    own: tuple[Database, DbQueue, JobRuntime],
) -> None:
    database, queue, runtime = own
    handler = dataset_infer.handlers(runtime)[INFER]
    assert handler.timeout_setting == "MODERATELY_DATASET_TIMEOUT_SECONDS"
    assert handler.gave_up is not None and handler.stopped is not None

    waiting = await wait_in_background(database, queue, field="fileId")
    job = await queued_job(database)
    message = "the job ran past its wall-time budget of 1 s (MODERATELY_DATASET_TIMEOUT_SECONDS)"
    await handler.stopped(job, Stop("resource_limit", message))
    with pytest.raises(Invalid) as refused:
        await asyncio.wait_for(waiting, 5)
    assert refused.value.message == f"schema inference stopped: {message}"
    assert refused.value.details == [{"field": "fileId", "message": refused.value.message}]

    async with database.session() as session:
        await session.delete(await session.get(JobRow, job.job_id))
    waiting = await wait_in_background(database, queue)
    job = await queued_job(database)
    await handler.gave_up(job, "gave up after 3 attempts: JobFailed: the job's process died")
    with pytest.raises(Unavailable, match="schema inference failed: gave up after 3 attempts"):
        await asyncio.wait_for(waiting, 5)


async def test_the_first_answer_wins_and_old_answers_are_purged(
    own: tuple[Database, DbQueue, JobRuntime],
) -> None:
    database, _, _ = own
    old = Job("old", INFER, {}, 1, 3, team_id="t1")
    job = Job("new", INFER, {}, 1, 3, team_id="t1")
    assert await write_reply(database, old, result={"a": 1}, now=utcnow() - KEEP_RESULTS * 2)
    assert await write_reply(database, job, result={"a": 2})
    assert not await write_reply(database, job, error="late", error_status=400)
    async with database.session(write=False) as session:
        rows = (await session.scalars(select(JobResult))).all()
    assert [(r.job_id, r.result, r.error) for r in rows] == [("new", {"a": 2}, None)]


async def test_no_answer_in_time_is_a_503(own: tuple[Database, DbQueue, JobRuntime]) -> None:
    database, queue, _ = own
    started = time.monotonic()
    with pytest.raises(Unavailable, match=r"within 0\.2 s"):
        await run_and_wait(database, queue, INFER, {}, team_id=None, timeout=0.2)
    assert time.monotonic() - started < 2
    job = await queued_job(database)
    assert not expired(job) and expired(job, utcnow() + timedelta(seconds=3))

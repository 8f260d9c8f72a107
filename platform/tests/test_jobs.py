"""The job queue (workers/db_queue.py) and the in-process workers, on SQLite and PostgreSQL.

Time is injected (the queue's clock, `now=`), so leases expire without sleeping. The last tests
simulate a crash: a job left running with an expired lease, then the app starts again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_helpers import POSTGRES_ADMIN_URL, client_for
from sqlalchemy import select, update

from moderately.app import create_app
from moderately.config import Settings
from moderately.db.migrate import upgrade_to_head
from moderately.db.models import Job as JobRow
from moderately.db.session import Database
from moderately.services import operator
from moderately.testing import create_postgres_database, drop_postgres_database
from moderately.timeutil import utcnow
from moderately.workers import ClaimLoops, DbQueue, Job, JobKind
from moderately.workers.db_queue import retry_delay

pytestmark = pytest.mark.anyio

T0 = datetime(2030, 1, 1, 12, 0, 0, tzinfo=utcnow().tzinfo)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def queue_settings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A database of their own: no app (and no app's workers) touches these jobs."""
    data_dir = tmp_path_factory.mktemp("jobs")
    if request.param == "sqlite":
        settings = Settings(data_dir=data_dir)
        upgrade_to_head(settings)
        yield settings
        return
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        settings = Settings(data_dir=data_dir, database_url=url)
        upgrade_to_head(settings)
        yield settings
    finally:
        drop_postgres_database(url)


@pytest.fixture
async def database(queue_settings: Settings) -> AsyncIterator[Database]:
    db = Database(queue_settings)
    try:
        yield db
    finally:
        async with db.session() as session:
            await session.execute(JobRow.__table__.delete())
        await db.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(database: Database, clock: Clock) -> DbQueue:
    return DbQueue(database, lease_seconds=30, max_attempts=2, clock=clock)


async def enqueue(queue: DbQueue, kind: str = "test.work", **payload: Any) -> str:
    async with queue.database.session() as session:
        return await queue.enqueue(session, kind, payload)


async def row_of(queue: DbQueue, job_id: str) -> JobRow:
    async with queue.database.session(write=False) as session:
        row = await session.get(JobRow, job_id)
        assert row is not None
        return row


# ---- the queue ----


async def test_the_team_cap_passes_over_busy_teams(database: Database, clock: Clock) -> None:
    """At most `team_cap` running jobs of one team and kind: the next claim takes another
    team's job, or the same team's job of another kind; untagged jobs are never held."""
    queue = DbQueue(database, lease_seconds=30, max_attempts=2, team_cap=2, clock=clock)

    async def put(kind: str, team_id: str | None) -> str:
        async with database.session() as session:
            job_id = await queue.enqueue(session, kind, {}, team_id=team_id)
        clock.advance(1)  # claims take the oldest first
        return job_id

    busy = [await put("a", "team-b") for _ in range(3)]
    other_kind = await put("b", "team-b")
    other_team = await put("a", "team-a")
    untagged = await put("a", None)
    claimed = [await queue.claim(f"w{n}", ["a"]) for n in range(2)]
    assert [job.job_id for job in claimed if job] == busy[:2]
    assert claimed[0] is not None and claimed[0].team_id == "team-b"
    third = await queue.claim("w3", ["a"])
    assert third is not None and third.job_id == other_team  # team-b is at its cap for "a"
    fourth = await queue.claim("w4", ["a"])
    assert fourth is not None and fourth.job_id == untagged
    assert await queue.claim("w5", ["a"]) is None  # only team-b's third is left, held back
    kind_b = await queue.claim("w6", ["b"])
    assert kind_b is not None and kind_b.job_id == other_kind  # another kind: its own cap
    assert await queue.complete(claimed[0])
    freed = await queue.claim("w7", ["a"])
    assert freed is not None and freed.job_id == busy[2]  # a slot of team-b's came free


async def test_claim_complete(queue: DbQueue, clock: Clock) -> None:
    job_id = await enqueue(queue, n=1)
    assert await queue.claim("w1", ["other.kind"]) is None
    job = await queue.claim("w1", ["test.work"])
    assert job is not None and job.job_id == job_id
    assert (job.attempts, job.worker_id, dict(job.payload)) == (1, "w1", {"n": 1})
    assert job.lease_expires_at == clock.now + timedelta(seconds=30)
    assert await queue.claim("w2", ["test.work"]) is None  # claimed once only
    assert await queue.complete(job)
    assert not await queue.complete(job)
    row = await row_of(queue, job_id)
    assert (row.status, row.lease_expires_at, row.finished_at) == ("done", None, clock.now)


async def test_heartbeat_and_lease_recovery(queue: DbQueue, clock: Clock) -> None:
    job_id = await enqueue(queue)
    job = await queue.claim("w1", ["test.work"])
    assert job is not None
    clock.advance(20)
    assert await queue.heartbeat(job)  # renewed: expires 30 s from now
    clock.advance(20)
    assert (await queue.recover()).requeued == 0
    clock.advance(11)  # w1 stopped renewing: its lease is over
    recovered = await queue.recover()
    assert (recovered.requeued, recovered.gave_up) == (1, [])
    row = await row_of(queue, job_id)
    assert (row.status, row.worker_id) == ("queued", None)
    assert "lease expired" in (row.last_error or "")
    assert not await queue.heartbeat(job)  # w1 lost it; w1 cannot finish it either
    assert not await queue.complete(job)
    again = await queue.claim("w2", ["test.work"])
    assert again is not None and again.attempts == 2
    clock.advance(31)
    spent = await queue.recover()  # the second attempt was the last (max_attempts=2)
    assert spent.requeued == 0 and [j.job_id for j, _ in spent.gave_up] == [job_id]
    assert (await row_of(queue, job_id)).status == "failed"


async def test_fail_retries_with_back_off_then_gives_up(queue: DbQueue, clock: Clock) -> None:
    job_id = await enqueue(queue)
    job = await queue.claim("w1", ["test.work"])
    assert job is not None
    assert not await queue.fail(job, "boom")  # attempts remain: queued again, later
    row = await row_of(queue, job_id)
    assert (row.status, row.last_error) == ("queued", "boom")
    assert await queue.claim("w1", ["test.work"]) is None  # backing off
    clock.advance(retry_delay(1).total_seconds())
    job = await queue.claim("w1", ["test.work"])
    assert job is not None and job.attempts == 2
    assert await queue.fail(job, "boom again")  # spent
    assert (await row_of(queue, job_id)).status == "failed"
    assert retry_delay(1) < retry_delay(2) <= retry_delay(20) == timedelta(minutes=5)


async def test_finished_jobs_are_purged_after_a_while(queue: DbQueue, clock: Clock) -> None:
    done_id, failed_id, waiting_id = [await enqueue(queue, n=n) for n in range(3)]
    for job_id in (done_id, failed_id):
        job = await queue.claim("w", ["test.work"])
        assert job is not None and job.job_id == job_id
        if job_id == done_id:
            await queue.complete(job)
        else:
            await queue.fail(job, "x", now=clock.now)  # back to the queue, later
    clock.advance(3600)
    assert await queue.purge(older_than=timedelta(hours=2)) == 0
    clock.advance(3600 + 1)
    assert await queue.purge(older_than=timedelta(hours=2)) == 1
    async with queue.database.session(write=False) as session:
        left = set((await session.scalars(select(JobRow.job_id))).all())
    assert left == {failed_id, waiting_id}


async def test_release_does_not_count_the_attempt(queue: DbQueue) -> None:
    job_id = await enqueue(queue)
    job = await queue.claim("w1", ["test.work"])
    assert job is not None
    await queue.release(job)
    row = await row_of(queue, job_id)
    assert (row.status, row.attempts) == ("queued", 0)


async def test_concurrent_claims_never_share_a_job(queue: DbQueue) -> None:
    ids = {await enqueue(queue, n=n) for n in range(6)}
    claimed = await asyncio.gather(*(queue.claim(f"w{n}", ["test.work"]) for n in range(8)))
    got = [job.job_id for job in claimed if job is not None]
    assert len(got) == len(set(got)) and set(got) <= ids
    # whatever a busy claim passed over is still there for the next round
    while (job := await queue.claim("late", ["test.work"])) is not None:
        got.append(job.job_id)
    assert sorted(got) == sorted(ids)


async def test_enqueue_notifies_after_commit_only(queue: DbQueue) -> None:
    notices: list[int] = []
    queue.on_enqueue = lambda: notices.append(1)
    with pytest.raises(RuntimeError):
        async with queue.database.session() as session:
            await queue.enqueue(session, "test.work", {})
            assert notices == []
            raise RuntimeError("rolled back")
    assert notices == []
    async with queue.database.session(write=False) as session:
        assert (await session.scalars(select(JobRow))).all() == []
    await enqueue(queue)
    assert notices == [1]


# ---- the in-process workers ----


async def test_workers_run_retry_and_give_up(queue: DbQueue, clock: Clock) -> None:
    ran: list[str] = []
    gave_up: list[tuple[str, str]] = []

    async def work(job: Job) -> None:
        ran.append(job.job_id)
        if job.payload.get("fail"):
            raise ValueError("bad luck")

    async def give_up(job: Job, reason: str) -> None:
        gave_up.append((job.job_id, reason))

    workers = ClaimLoops(queue, {"test.work": JobKind(work, give_up)})
    good = await enqueue(queue)
    bad = await enqueue(queue, fail=True)
    assert await workers.run_next("w")
    assert await workers.run_next("w")
    assert not await workers.run_next("w")
    clock.advance(retry_delay(1).total_seconds())
    assert await workers.run_next("w")  # the retry
    assert ran == [good, bad, bad]
    assert (await row_of(queue, good)).status == "done"
    assert (await row_of(queue, bad)).status == "failed"
    # The exception's kind reaches the hook (and so clients); its text only the worker's log.
    assert gave_up == [
        (bad, "gave up after 2 attempts: ValueError (the worker's log has the details)")
    ]


async def test_workers_wake_on_enqueue_and_hand_back_on_stop(queue: DbQueue) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(job: Job) -> None:
        started.set()
        await asyncio.sleep(60)
        finished.append(job.job_id)

    async def quick(job: Job) -> None:
        finished.append(job.job_id)

    queue.clock = utcnow
    workers = ClaimLoops(
        queue, {"test.slow": JobKind(slow), "test.quick": JobKind(quick)}, poll_interval=60
    )
    await workers.start()
    try:
        quick_id = await enqueue(queue, "test.quick")  # no 60 s poll: the commit wakes a loop
        deadline = time.monotonic() + 5
        while quick_id not in finished:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        slow_id = await enqueue(queue, "test.slow")
        await asyncio.wait_for(started.wait(), 5)
    finally:
        await workers.stop()
    row = await row_of(queue, slow_id)  # cut short by the stop: queued again, not counted
    assert (row.status, row.attempts, row.worker_id) == ("queued", 0, None)
    assert slow_id not in finished


async def test_a_burst_of_enqueues_is_claimed_by_every_loop(queue: DbQueue) -> None:
    """A wake sets one idle loop of a group, which wakes the next once it claimed: a burst of
    jobs, enqueued while every loop is busy or asleep, all run without waiting for a poll."""
    release = asyncio.Event()
    running: set[str] = set()
    finished: list[str] = []

    async def work(job: Job) -> None:
        running.add(job.job_id)
        await release.wait()
        finished.append(job.job_id)

    queue.clock = utcnow
    workers = ClaimLoops(
        queue, {"test.burst": JobKind(work)}, slots={"test.burst": 3}, poll_interval=60
    )
    await workers.start()
    try:
        first = [await enqueue(queue, "test.burst") for _ in range(3)]
        deadline = time.monotonic() + 5
        while running != set(first):  # all three loops, from wakes alone
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        later = [await enqueue(queue, "test.burst") for _ in range(4)]  # no loop idle now
        release.set()
        while len(finished) < 7:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
    finally:
        await workers.stop()
    assert sorted(finished) == sorted(first + later)


async def test_a_wake_while_claiming_is_kept_for_the_next_idle_loop(queue: DbQueue) -> None:
    """The race between a loop's empty claim and an enqueue's wake: the wake is kept."""
    workers = ClaimLoops(queue, {"test.burst": JobKind(lambda job: asyncio.sleep(0))})
    group = ("test.burst",)
    workers._idle[group] = []
    workers._wake_groups()
    assert group in workers._missed
    idle = asyncio.Event()
    workers._idle[group].append(idle)
    workers._wake_groups()
    assert idle.is_set() and workers._idle[group] == []


# ---- a restart leaves nothing stuck ----


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def _stuck_processing(settings: Settings, *, attempts: int) -> tuple[str, str]:
    """A dataset whose processing job was running on a worker that died: it is `in_progress`,
    the job `running` with a lease that expired. Returns (api key, dataset id)."""
    async with running_app(settings.model_copy(update={"workers": 0})) as app:
        database: Database = app.state.database
        async with database.session() as session:
            issued = await operator.create_user_with_token(session, email="crash@example.com")
        async with client_for(app, issued.api_key) as client:
            dataset_id = await _dataset_with_data(client)
            queued = await client.patch(f"/datasets/{dataset_id}", json={"shouldProcess": True})
            assert queued.json()["processingStatus"] == "in_progress"
        async with database.session() as session:
            await session.execute(
                update(JobRow).values(
                    status="running",
                    worker_id="a-worker-that-died",
                    attempts=attempts,
                    lease_expires_at=utcnow() - timedelta(minutes=5),
                )
            )
    return issued.api_key, dataset_id


async def _dataset_with_data(client: httpx.AsyncClient) -> str:
    dataset_id: str = (await client.post("/datasets", json={"name": "crash"})).json()["datasetId"]
    ticket = (
        await client.post(
            "/dataset-data-versions",
            json={
                "datasetId": dataset_id,
                "fileName": "d.csv",
                "fileType": "csv",
                "status": "current",
            },
        )
    ).json()
    assert (await client.put(ticket["uploadUrl"], content=b"n\n1\n2\n")).status_code == 200
    version_id = ticket["dataVersion"]["datasetDataVersionId"]
    assert (await client.post(f"/dataset-data-versions/{version_id}/complete")).status_code == 200
    schema = {
        "datasetId": dataset_id,
        "columns": [{"name": "n", "type": "integer"}],
        "status": "current",
    }
    assert (await client.post("/dataset-schema-versions", json=schema)).status_code == 201
    return dataset_id


async def _processing_status(app: Any, api_key: str, dataset_id: str) -> dict[str, Any]:
    async with client_for(app, api_key) as client:
        deadline = time.monotonic() + 10
        while True:
            dataset: dict[str, Any] = (await client.get(f"/datasets/{dataset_id}")).json()
            if dataset["processingStatus"] != "in_progress":
                return dataset
            assert time.monotonic() < deadline, dataset
            await asyncio.sleep(0.02)


@pytest.fixture
def fresh_settings(queue_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty database of the same dialect, with a short job poll."""
    if queue_settings.database_url is None:
        yield Settings(data_dir=tmp_path, job_poll_interval_seconds=0.05)
        return
    url = create_postgres_database(POSTGRES_ADMIN_URL)
    try:
        yield Settings(data_dir=tmp_path, database_url=url, job_poll_interval_seconds=0.05)
    finally:
        drop_postgres_database(url)


async def test_a_restart_finishes_what_a_dead_worker_left(fresh_settings: Settings) -> None:
    api_key, dataset_id = await _stuck_processing(fresh_settings, attempts=1)
    async with running_app(fresh_settings) as app:  # startup recovery queues it again
        dataset = await _processing_status(app, api_key, dataset_id)
    assert dataset["processingStatus"] == "completed", dataset
    assert dataset["recordCount"] == 2


async def test_a_restart_fails_what_spent_its_attempts(fresh_settings: Settings) -> None:
    api_key, dataset_id = await _stuck_processing(fresh_settings, attempts=3)
    async with running_app(fresh_settings) as app:
        dataset = await _processing_status(app, api_key, dataset_id)
    assert dataset["processingStatus"] == "failed", dataset
    assert "processing stopped" in dataset["processingError"]
    assert "lease expired" in dataset["processingError"]

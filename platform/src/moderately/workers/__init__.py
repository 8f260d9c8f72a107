"""Background work: a queue interface (base.py), a database-backed queue (db_queue.py), the claim
loops of a worker process (loops.py), and the supervisor of the worker processes that
`moderately serve` starts (supervisor.py)."""

from moderately.workers.base import Job, JobKind, JobQueue, Recovered
from moderately.workers.db_queue import DbQueue
from moderately.workers.loops import ClaimLoops

__all__ = ["ClaimLoops", "DbQueue", "Job", "JobKind", "JobQueue", "Recovered"]

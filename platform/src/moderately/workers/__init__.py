"""Background work: a queue interface (base.py), a database-backed queue (db_queue.py) and the
in-process asyncio workers the app starts in its lifespan (inprocess.py)."""

from moderately.workers.base import Job, JobKind, JobQueue, Recovered
from moderately.workers.db_queue import DbQueue
from moderately.workers.inprocess import InProcessWorkers

__all__ = ["DbQueue", "InProcessWorkers", "Job", "JobKind", "JobQueue", "Recovered"]

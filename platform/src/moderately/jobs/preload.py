"""What a worker's forkserver does once, so that each job's process it forks starts warm
(jobs/isolation.py) instead of paying it again on every job (found with py-spy; see
benchmarks/README.md, "Issue 12: pipelines"):

* the job code (jobs/child.py);
* every block type: the registry imports engine/blocks/ on its first read (engine/registry.py),
  which every job's process did when it compiled its pipeline;
* the database models' mappers, which SQLAlchemy configures on their first query;
* anyio's asyncio backend, which anyio imports on its first call (a thread hop);
* the worker's main module (jobs/child.py `preloaded_modules`): multiprocessing runs it again
  in each process as `__mp_main__`, and runpy warns that it was imported before. It is run
  under that other name on purpose; the forked processes inherit this filter.
"""

from __future__ import annotations

import warnings

import anyio
import anyio.lowlevel
from sqlalchemy.orm import configure_mappers

import moderately.db.models
import moderately.jobs.child  # noqa: F401
from moderately.engine.registry import block_types

for _ in block_types():
    pass
configure_mappers()
anyio.run(anyio.lowlevel.checkpoint)
warnings.filterwarnings(
    "ignore", message=r".* found in sys\.modules after import of package", category=RuntimeWarning
)

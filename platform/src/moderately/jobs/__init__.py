"""Job handlers: the work workers do, apart from the request-side services.

* `pipeline_execute`: the `pipeline.execute` job, with its run context (`pipeline_context`) and
  its cancel/pause watcher (`watcher`);
* `agent_execute`: the `agent.execute` job, with its host for the agent runtime (`agent_host`);
* `dataset_process`: the `dataset.process` job;
* `dataset_infer`: the `dataset.infer` job, which answers a waiting request (`replies`);
* `isolation` runs each job in a process of its own under the job budgets, and `child` is that
  process's body.

Status changes go through the lifecycle (services/lifecycle.py); the queue and the claim loops
are in workers/; composition.py puts it together.
"""

from __future__ import annotations

from moderately.jobs import agent_execute, dataset_infer, dataset_process, pipeline_execute
from moderately.jobs.base import JobHandler, JobRuntime, Stop

__all__ = ["JobHandler", "JobRuntime", "Stop", "job_handlers"]


def job_handlers(runtime: JobRuntime) -> dict[str, JobHandler]:
    """Every kind of background job, by name."""
    return {
        **dataset_process.handlers(runtime),
        **dataset_infer.handlers(runtime),
        **pipeline_execute.handlers(runtime),
        **agent_execute.handlers(runtime),
    }

"""The `dataset.infer` job: propose a schema for an uploaded file or a data version
(services/dataset_schemas.py `infer_schema` queues it and waits for the answer).

`infer`, inside the job's own process (jobs/isolation.py: memory and the wall-time budget
`dataset_timeout_seconds`), streams the object to a temporary file and runs `tabular.infer`:
columns typed from the values, parsing options sniffed where the request left them out. The
answer (jobs/replies.py) is the wire form of the `InferredSchema`, what the API's response is
made of; bad input (binary data, options the file can't be read with, bytes missing from the
store) is a `Refusal` the request answers with 400.

Payload (made by the request, which has checked access, the upload status and the options):
`storageKey`, `what` (names the source in messages: "file <id>"), `parsingOptions` (partial
options, or None), `sampleRows` (None: the default).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from moderately import tabular
from moderately.jobs.base import JobHandler, JobRuntime
from moderately.jobs.replies import Refusal, reply_handler
from moderately.services.dataset_schemas import INFER
from moderately.services.transfers import Storage, fetch_to_file
from moderately.storage import ObjectNotFound
from moderately.workers.base import Job

__all__ = ["INFER", "handlers", "infer", "wire"]


def handlers(runtime: JobRuntime) -> dict[str, JobHandler]:
    async def work(job: Job) -> dict[str, Any]:
        return await infer(runtime.storage, job.payload)

    return {
        INFER: reply_handler(
            runtime,
            work,
            what="schema inference",
            timeout_seconds=runtime.settings.dataset_timeout_seconds,
            timeout_setting="MODERATELY_DATASET_TIMEOUT_SECONDS",
        )
    }


async def infer(storage: Storage, payload: Mapping[str, Any]) -> dict[str, Any]:
    what = str(payload["what"])
    options = payload.get("parsingOptions")
    rows = payload.get("sampleRows") or tabular.DEFAULT_SAMPLE_ROWS
    # This process is the job's own: the read below may use the CPU as long as its budget allows.
    with tempfile.TemporaryDirectory(prefix="moderately-") as scratch:
        path = Path(scratch) / "sample"
        try:
            await fetch_to_file(storage.store, str(payload["storageKey"]), path)
        except ObjectNotFound:
            raise Refusal(f"the bytes of {what} are missing") from None
        try:
            inferred = tabular.infer(path, options, sample_rows=int(rows))
        except tabular.NotDelimitedText as exc:
            raise Refusal(f"{exc} ({what})") from None
        except ValueError as exc:
            raise Refusal(f"cannot infer a schema: {exc}") from None
    return wire(inferred)


def wire(inferred: tabular.InferredSchema) -> dict[str, Any]:
    """The answer as JSON: the fields of the API's SchemaInferPublic, camelCase."""
    return {
        "columns": [column.to_wire() for column in inferred.columns],
        "parsingOptions": inferred.options.to_wire(),
        "rowsSampled": inferred.rows_sampled,
        "sampledAll": inferred.sampled_all,
    }

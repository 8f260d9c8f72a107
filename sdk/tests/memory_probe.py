"""Peak memory of one upload and one download, measured in a fresh interpreter.

Run by test_files.py::test_peak_memory_stays_bounded (so RSS means the SDK, not the test server):

    python memory_probe.py ModeratelyAI|AsyncModeratelyAI WORK_DIR SIZE_MIB

Credentials come from MODERATELY_API_KEY / MODERATELY_TEAM_ID / MODERATELY_BASE_URL. Prints JSON:
how far the peak RSS rose above the RSS before each transfer, in MiB, and whether the downloaded
file has the uploaded bytes.
"""

import asyncio
import hashlib
import json
import resource
import sys
from pathlib import Path
from types import TracebackType
from typing import Any, Dict, Optional, Type

from moderatelyai_sdk import AsyncModeratelyAI, ModeratelyAI

MiB = 1024 * 1024


def _proc_status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MiB
    raise KeyError(field)


def _lifetime_peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


class Peak:
    """``with Peak() as p: ...`` then ``p.mib``: peak RSS growth during the block."""

    def __enter__(self) -> "Peak":
        try:
            Path("/proc/self/clear_refs").write_text("5")  # restart the peak at the current RSS
            self.resettable = True
            self.before = _proc_status("VmRSS")
        except OSError:  # not allowed: fall back on the lifetime peak, which can only grow
            self.resettable = False
            self.before = _lifetime_peak()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        peak = _proc_status("VmHWM") if self.resettable else _lifetime_peak()
        self.mib = round(peak - self.before, 1)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(MiB):
            digest.update(chunk)
    return digest.hexdigest()


def run_sync(source: Path, target: Path) -> Dict[str, float]:
    with ModeratelyAI() as client:
        client.files.download(client.files.upload(b"warm up").file_id)  # load every module
        with Peak() as up:
            file = client.files.upload(source)
        with Peak() as down:
            client.files.download(file.file_id, path=target)
    return {"upload_mib": up.mib, "download_mib": down.mib}


async def run_async(source: Path, target: Path) -> Dict[str, float]:
    async with AsyncModeratelyAI() as client:
        await client.files.download((await client.files.upload(b"warm up")).file_id)
        with Peak() as up:
            file = await client.files.upload(source)
        with Peak() as down:
            await client.files.download(file.file_id, path=target)
    return {"upload_mib": up.mib, "download_mib": down.mib}


def main() -> None:
    mode, work, size = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]) * MiB
    source, target = work / "big.bin", work / "back" / "big.bin"
    with source.open("wb") as f:
        f.truncate(size)  # sparse: nothing to write
    report: Dict[str, Any] = {"mode": mode, "size_mib": size // MiB}
    if mode == ModeratelyAI.__name__:
        report.update(run_sync(source, target))
    else:
        report.update(asyncio.run(run_async(source, target)))
    report["verified"] = file_sha256(target) == file_sha256(source)
    print(json.dumps(report))


if __name__ == "__main__":
    main()

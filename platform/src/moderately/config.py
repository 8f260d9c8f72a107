"""Server settings: one object, built once by the caller and passed in (never a global)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024**2
GiB = 1024**3
# Providers with MODERATELY_<NAME>_API_KEY / _BASE_URL settings (the llm block's enum).
PROVIDER_SETTINGS = ("openai", "anthropic", "groq", "cerebras", "google", "vertexai", "cohere")
# SigV4 presigned URLs live at most 7 days; the local store keeps the same bound.
MAX_URL_TTL_SECONDS = 7 * 24 * 3600


class Settings(BaseSettings):
    """Read from `MODERATELY_*` environment variables; CLI flags override them."""

    model_config = SettingsConfigDict(
        env_prefix="MODERATELY_", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Path(".data")
    # None means SQLite in the data dir. A plain `postgresql://user@host:port/db` is accepted;
    # the server picks its own driver (db.session.async_url).
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Serve the API below a path prefix, e.g. "/api". Empty: at the root.
    mount_prefix: str = ""
    # Address written to credentials.env; defaults to http://host:port.
    public_url: str | None = None
    # Serve the extensions of the published API (api/extensions.py). False: only the published
    # operations are mounted and documented, and GET /health lists no extension.
    api_extensions: bool = True

    # ---- request bounds (api/body_limit.py) ----
    # A request body larger than this is answered 413 before it is read: at once when its
    # Content-Length says so, else as soon as the bytes received pass it. The local store's
    # upload URLs (/_storage/...) keep their own rule (the signed size, max_upload_bytes).
    max_request_body_bytes: int = Field(default=32 * 1024 * 1024, ge=0)

    # ---- rate limits (services/rate_limits.py) ----
    # Requests a minute per API token, shared by every API process on the database (a bucket of
    # a minute's requests, refilled continuously); over it requests answer 429 with Retry-After.
    # Each process may run up to 2% of the limit ahead of the shared count. 0: no limit.
    rate_limit_per_minute: int = Field(default=60_000, ge=0)

    # Seconds a token's principal is remembered by an API process (0: looked up every request).
    # A revocation drops it at once in the process that makes it and within
    # `token_cache_poll_seconds` in every other (services/token_cache.py).
    token_cache_seconds: float = Field(default=10.0, ge=0)
    token_cache_poll_seconds: float = Field(default=1.0, gt=0)

    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    usage_flush_interval_seconds: float = Field(default=1.0, gt=0)
    migrate_on_startup: bool = True

    # ---- object storage (files) ----
    # None: the local store in <data_dir>/objects. Else a directory (path or file:///path) or
    # s3://bucket[/prefix]?endpoint=http://127.0.0.1:8333&region=us-east-1 (options listed in
    # moderately/storage/__init__.py).
    storage_url: str | None = None
    # S3 credentials (MODERATELY_S3_ACCESS_KEY / MODERATELY_S3_SECRET_KEY); unset, the usual AWS_*
    # variables and profiles apply. Never part of storage_url.
    s3_access_key: str | None = Field(default=None, repr=False)
    s3_secret_key: str | None = Field(default=None, repr=False)
    # HMAC key of the local store's URLs. Unset: generated once and kept in
    # <data_dir>/signing_secret (mode 0600), so restarts and processes sharing the data dir
    # agree. Set it when several API machines share one store.
    signing_secret: str | None = Field(default=None, repr=False, min_length=16)
    max_upload_bytes: int = Field(default=5 * GiB, ge=0)
    upload_url_ttl_seconds: int = Field(default=3600, ge=1, le=MAX_URL_TTL_SECONDS)
    download_url_ttl_seconds: int = Field(default=3600, ge=1, le=MAX_URL_TTL_SECONDS)
    # A pending upload whose URL expired this long ago is marked failed and its bytes removed
    # (a PUT that started just before the expiry may still be arriving, and complete may follow).
    pending_upload_grace_seconds: int = Field(default=3600, ge=0)
    upload_sweep_interval_seconds: float = Field(default=60.0, gt=0)

    # API processes `moderately serve` runs on its one listening socket (api_workers.py); the
    # job workers below are started once whatever their number. 1: the server itself serves.
    api_workers: int = Field(default=1, ge=1, le=64)

    # ---- background jobs (workers/, jobs/) ----
    # Worker processes `moderately serve` starts and supervises (restarted when they die); 0 runs
    # none (`moderately worker` processes elsewhere work the queue). The API process itself never
    # runs a job: it enqueues, reads and writes state.
    workers: int = Field(
        default=2,
        ge=0,
        le=64,
        # The old name of the setting still works.
        validation_alias=AliasChoices("MODERATELY_WORKERS", "MODERATELY_INPROCESS_WORKERS"),
    )
    # Jobs one worker process runs at once, per kind: each runs in a process of its own.
    worker_pipeline_slots: int = Field(default=2, ge=0, le=64)
    worker_dataset_slots: int = Field(default=1, ge=0, le=64)
    # Running jobs of one team and kind at once, across all workers (fairness between teams).
    team_running_jobs: int = Field(default=2, ge=1, le=1024)
    # How often an idle worker looks for jobs queued by other processes (its own wake it at once).
    job_poll_interval_seconds: float = Field(default=1.0, gt=0)
    # A running job's lease; its worker renews it every third of it. A worker that dies loses
    # its jobs to recovery once the lease is over.
    job_lease_seconds: float = Field(default=60.0, gt=0)
    job_max_attempts: int = Field(default=3, ge=1)
    job_recovery_interval_seconds: float = Field(default=15.0, gt=0)
    # How long a request waits for the worker job that answers it (schema inference:
    # services/job_requests.py); past it the request answers 503 and the job expires unrun.
    infer_wait_seconds: float = Field(default=60.0, gt=0)
    # "database": the jobs table (workers/db_queue.py; SQLite or PostgreSQL). "procrastinate":
    # procrastinate on the same PostgreSQL (workers/procrastinate_backend.py; `moderately
    # migrate` applies its schema). Either way `moderately worker` processes scale out.
    job_backend: Literal["database", "procrastinate"] = "database"

    # Modules imported by worker and job processes before they run jobs (comma-separated), e.g.
    # ones that register custom block types; they must be importable there (PYTHONPATH).
    job_modules: str = ""
    # Load the LLM provider clients and the agent runtime once in each worker's forkserver, so
    # agent and LLM jobs start without importing them (about a second each; costs ~65 MiB in
    # the forkserver and a second or two of CPU when a worker starts).
    job_preload_ai: bool = True

    # ---- job budgets (enforced by the worker: jobs/isolation.py; and by the engine:
    # engine/budgets.py, whose fields are the job_* settings below without the prefix) ----
    # Resident memory of one job's process; over it the job is killed and fails (resource_limit).
    job_memory_bytes: int = Field(default=2 * GiB, ge=64 * MiB)
    # Wall time of a dataset job (processing, inference); pipelines use pipeline_timeout_seconds.
    dataset_timeout_seconds: float = Field(default=3600.0, gt=0)
    # After a cancel or pause, a job's process has this long to stop by itself before it is killed.
    job_stop_grace_seconds: float = Field(default=1.5, ge=0, le=30)
    job_max_value_bytes: int = Field(default=64 * MiB, ge=1024)
    job_max_output_bytes: int = Field(default=256 * MiB, ge=1024)
    job_map_max_items: int = Field(default=100_000, ge=1)
    job_map_max_concurrency: int = Field(default=16, ge=1)
    job_template_max_output_bytes: int = Field(default=8 * MiB, ge=1024)
    job_pdf_max_pages: int = Field(default=2000, ge=1)
    job_pdf_max_text_bytes: int = Field(default=64 * MiB, ge=1024)
    job_pdf_max_inflated_bytes: int = Field(default=256 * MiB, ge=1024)
    job_pdf_max_page_objects: int = Field(default=200_000, ge=1)
    job_join_max_rows: int = Field(default=1_000_000, ge=1)
    job_embedding_max_texts: int = Field(default=100_000, ge=1)

    # ---- pipeline executions (services/pipeline_runner.py) ----
    # Outputs whose compact JSON is larger go gzip'd to the object store (GET .../output).
    pipeline_inline_output_bytes: int = Field(default=1024 * 1024, ge=0)
    pipeline_timeout_seconds: float = Field(default=3600.0, gt=0)
    pipeline_parallel_blocks: int = Field(default=4, ge=1, le=64)

    # ---- AI: LLM providers and embedding models (moderately/ai; docs/operators.md) ----
    # Credentials and base URLs per provider: MODERATELY_<PROVIDER>_API_KEY / _BASE_URL. A
    # provider is configured when it has a key or a base URL (a local Ollama/vLLM server needs no
    # key). openai, groq, cerebras, google, vertexai and cohere are spoken through the
    # OpenAI-compatible chat API; anthropic through its native Messages API. Calls go only to
    # these base URLs (or the provider's public default when only a key is set).
    openai_api_key: str | None = Field(default=None, repr=False)
    openai_base_url: str | None = None
    anthropic_api_key: str | None = Field(default=None, repr=False)
    anthropic_base_url: str | None = None
    groq_api_key: str | None = Field(default=None, repr=False)
    groq_base_url: str | None = None
    cerebras_api_key: str | None = Field(default=None, repr=False)
    cerebras_base_url: str | None = None
    google_api_key: str | None = Field(default=None, repr=False)
    google_base_url: str | None = None
    vertexai_api_key: str | None = Field(default=None, repr=False)
    vertexai_base_url: str | None = None
    cohere_api_key: str | None = Field(default=None, repr=False)
    cohere_base_url: str | None = None
    # JSON: {"<provider>": {"small": "<model>", "medium": ..., "large": ...}}, merged over the
    # built-in table (moderately/ai/tiers.py).
    llm_tiers: str | None = None
    # The provider used where a configuration names none (agents' llmConfig: {}, the
    # clause_extraction_agent's and legal_variance_determination's defaults). Unset: the first
    # configured provider in the order of ai/types.py PROVIDERS (openai, anthropic, cohere, groq,
    # cerebras, google, vertexai).
    default_llm_provider: str | None = None
    llm_timeout_seconds: float = Field(default=120.0, gt=0)  # one provider call
    llm_max_attempts: int = Field(default=3, ge=1, le=10)  # transport errors, 429 and 5xx
    llm_retry_base_seconds: float = Field(default=1.0, ge=0)  # backoff: 1 s, 4 s, 16 s, ...
    # Provider calls in flight at once, per worker process (shared by its jobs' processes).
    llm_max_concurrency: int = Field(default=8, ge=1, le=1024)
    # A directory of local embedding models (model2vec format), looked up by model name first
    # (`<dir>/<name>` with "/" in the name kept as a subdirectory); the bundled model answers
    # every other name.
    embedding_model_dir: Path | None = None

    # ---- agent executions (moderately/agents; docs/agents.md) ----
    worker_agent_slots: int = Field(default=2, ge=0, le=64)
    # Upper bound of an execution's executionConfig.timeout_minutes.
    agent_max_timeout_seconds: float = Field(default=4 * 3600.0, gt=0)
    agent_tool_timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("mount_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            value = "/" + value
        return value

    @field_validator(
        "database_url",
        "storage_url",
        "signing_secret",
        "llm_tiers",
        "default_llm_provider",
        "embedding_model_dir",
        *(
            f"{p}_{k}"
            for p in ("openai", "anthropic", "groq", "cerebras", "google", "vertexai", "cohere")
            for k in ("api_key", "base_url")
        ),
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return value or None

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        # A wildcard bind address is not something a client can dial.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{self.mount_prefix}"

    def environment(self) -> dict[str, str]:
        """These settings as `MODERATELY_*` variables: how the server hands them to the worker
        processes it starts (every setting is a scalar; unset ones are left out)."""
        variables: dict[str, str] = {}
        for name, value in self.model_dump().items():
            if value is None:
                continue
            if isinstance(value, bool):
                value = "true" if value else "false"
            variables[f"MODERATELY_{name.upper()}"] = str(value)
        return variables

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.env"

    @property
    def signing_secret_file(self) -> Path:
        return self.data_dir / "signing_secret"

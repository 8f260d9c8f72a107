"""Server settings: one object, built once by the caller and passed in (never a global)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Read from `MODERATELY_*` environment variables; CLI flags override them."""

    model_config = SettingsConfigDict(env_prefix="MODERATELY_", extra="ignore")

    data_dir: Path = Path(".data")
    # None means SQLite in the data dir. A plain `postgresql://user@host:port/db` is accepted;
    # the server picks its own driver (db.session.async_url).
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # Serve the API below a path prefix, e.g. "/api" (api.md 1.1). Empty: at the root.
    mount_prefix: str = ""
    # Address written to credentials.env; defaults to http://host:port.
    public_url: str | None = None
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    idempotency_ttl_seconds: int = Field(default=24 * 3600, ge=1)
    usage_flush_interval_seconds: float = Field(default=1.0, gt=0)
    migrate_on_startup: bool = True

    @field_validator("mount_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith("/"):
            value = "/" + value
        return value

    @field_validator("database_url")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
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

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.env"

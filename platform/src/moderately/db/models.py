"""SQLAlchemy 2 models. One schema for SQLite and PostgreSQL; migrations live in db/migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, column_property, mapped_column

from moderately.ids import new_id
from moderately.timeutil import as_utc, utcnow

ID = String(21)

# Stable constraint names, so Alembic can address them on both dialects.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Always hands back aware UTC datetimes; SQLite would otherwise return naive ones."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        # SQLite compares the stored text, so store one canonical naive-UTC form there.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Team(Timestamped, Base):
    __tablename__ = "teams"

    team_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)


class User(Timestamped, Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    full_name: Mapped[str] = mapped_column(String(255))
    nickname: Mapped[str | None] = mapped_column(String(255))


class TeamUser(Timestamped, Base):
    __tablename__ = "team_users"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    team_user_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # The member's email rides along with every membership row (api.md 4.14).
    email: Mapped[str | None] = column_property(
        select(User.email).where(User.user_id == user_id).correlate_except(User).scalar_subquery()
    )


class ApiToken(Timestamped, Base):
    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(
        ForeignKey("teams.team_id", ondelete="CASCADE"), index=True
    )
    created_by_user_id: Mapped[str] = mapped_column(
        ForeignKey("users.user_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # SHA-256 hex of the full secret; the secret itself is never stored.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    token_prefix: Mapped[str] = mapped_column(String(16))
    last4: Mapped[str] = mapped_column(String(4))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class ApiTokenUsage(Base):
    """Request counts per token, hour, method and route, written in batches by the recorder."""

    __tablename__ = "api_token_usage"
    __table_args__ = (Index("ix_api_token_usage_token_hour", "token_id", "hour"),)

    usage_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_id: Mapped[str] = mapped_column(ForeignKey("api_tokens.token_id", ondelete="CASCADE"))
    hour: Mapped[datetime] = mapped_column(UTCDateTime)
    method: Mapped[str] = mapped_column(String(16))
    endpoint: Mapped[str] = mapped_column(String(255))
    request_count: Mapped[int] = mapped_column(Integer)
    error_count: Mapped[int] = mapped_column(Integer)
    total_duration_ms: Mapped[float] = mapped_column(Float)


class Agent(Timestamped, Base):
    __tablename__ = "agents"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    agent_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(String(1000))


class File(Timestamped, Base):
    """A stored file: the row is the gate, its bytes live in the object store under
    `storage_key`, and only a `completed` row hands out download URLs."""

    __tablename__ = "files"
    __table_args__ = (
        Index("ix_files_team_id_created_at", "team_id", "created_at"),
        Index("ix_files_team_id_hash_hex", "team_id", "hash_hex"),
        Index("ix_files_upload_status_upload_expires_at", "upload_status", "upload_expires_at"),
    )

    file_id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    team_id: Mapped[str] = mapped_column(ForeignKey("teams.team_id", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(1000))
    original_name: Mapped[str | None] = mapped_column(String(1000))
    file_size: Mapped[int] = mapped_column(BigInteger)
    mime_type: Mapped[str] = mapped_column(String(255))
    # As the client sent it (hex or "sha256:hex"); `hash_hex` is the lower-case hex for lookups.
    file_hash: Mapped[str | None] = mapped_column(String(255))
    hash_hex: Mapped[str | None] = mapped_column(String(64))
    upload_status: Mapped[str] = mapped_column(String(16), default="pending")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    uploaded_by: Mapped[str | None] = mapped_column(
        ForeignKey("users.user_id", ondelete="SET NULL")
    )
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    # The foreign key to datasets comes with them (issue 4).
    dataset_id: Mapped[str | None] = mapped_column(String(21), index=True)
    storage_key: Mapped[str] = mapped_column(String(1024))
    # When the upload URL stops working; cleared once the upload is completed or failed.
    upload_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(Base):
    """The first response to a POST carrying an Idempotency-Key, replayed for repeats."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    record_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # SHA-256 of the bearer token: keys are per token, and the record needs no token row.
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(255))
    response_body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

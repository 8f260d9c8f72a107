"""Alembic environment: one migration chain for SQLite and PostgreSQL (batch mode for SQLite)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from moderately.db.models import Base, StatusColumn, UTCDateTime

# Any constant works; it only has to be the same for every server process.
_MIGRATION_LOCK_KEY = 7_316_220_451


def render_item(kind: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Migrations spell plain SQLAlchemy types, so they never import application code."""
    if kind == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if kind == "type" and isinstance(obj, StatusColumn):
        return f"sa.String(length={obj.length})"
    return False


def run_migrations_online() -> None:
    url = context.config.attributes.get("sqlalchemy_url") or context.config.get_main_option(
        "sqlalchemy.url"
    )
    if url is None:
        raise SystemExit("no database URL: run migrations through `moderately migrate`")
    # Foreign keys stay off on this SQLite connection: batch mode recreates tables, and a
    # DROP TABLE with foreign keys on would cascade into the children.
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=True,
            compare_type=True,
            render_item=render_item,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several server processes may start at once; one migrates, the others wait.
                connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `moderately migrate`")
run_migrations_online()

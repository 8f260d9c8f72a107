"""Operator CLI: `moderately serve | worker | migrate | admin create-user | admin create-token`.
Thin: it calls services."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from moderately import __version__, logredact
from moderately.config import Settings
from moderately.db.migrate import upgrade_to_head
from moderately.db.session import Database
from moderately.errors import DomainError
from moderately.private_files import make_private_dir
from moderately.services import operator
from moderately.services.operator import IssuedCredentials

T = TypeVar("T")


def settings_from(args: argparse.Namespace) -> Settings:
    """Environment (MODERATELY_*) first, then the flags that were given."""
    overrides: dict[str, Any] = {}
    names = ("data_dir", "database_url", "host", "port", "mount_prefix", "storage_url")
    for name in (*names, "workers", "api_workers", "job_backend", "api_extensions"):
        value = getattr(args, name, None)
        if value is not None:
            overrides[name] = value
    return Settings(**overrides)


def run_in_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def main() -> T:
        database = Database(settings)
        try:
            async with database.session() as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(main())


def credential_lines(base_url: str, issued: IssuedCredentials) -> str:
    return (
        f"MODERATELY_BASE_URL={base_url}\n"
        f"MODERATELY_API_KEY={issued.api_key}\n"
        f"MODERATELY_TEAM_ID={issued.team_id}\n"
    )


def write_credentials(path: Path, text: str) -> None:
    """Mode 0600 from the first byte: the file holds an admin secret."""
    make_private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def known_base_url(settings: Settings) -> str:
    """The address the server wrote at bootstrap, if any; else what the settings say."""
    try:
        for line in settings.credentials_file.read_text().splitlines():
            if line.startswith("MODERATELY_BASE_URL="):
                return line.partition("=")[2].strip()
    except OSError:
        pass
    return settings.base_url


def migrate(settings: Settings) -> None:
    """The platform's migrations, then the job queue's schema (procrastinate's, when used)."""
    from moderately.composition import prepare_queue

    upgrade_to_head(settings)
    prepare_queue(settings)


def prepare(settings: Settings) -> None:
    """Migrate, bootstrap an empty database, and say where the credentials are."""
    migrate(settings)
    issued = run_in_session(settings, operator.bootstrap)
    path = settings.credentials_file
    if issued is not None:
        write_credentials(path, credential_lines(settings.base_url, issued))
        print(f"Created the first team, admin user and API token; credentials written to {path}")
    elif path.exists():
        print(f"Credentials: {path}")
    else:
        print("Database already initialised; create users with `moderately admin create-user`.")


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from moderately.app import create_app

    # uvicorn configures its own loggers only; this makes the server's own lines (and, at
    # debug, its libraries') visible too, at the same level.
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    settings = settings_from(args)
    prepare(settings)
    if settings.api_workers > 1:  # N processes on one socket; job workers started once
        from moderately.api_workers import serve_api_workers

        print(
            f"Serving the Moderately API on {settings.base_url} "
            f"({settings.api_workers} API processes)",
            flush=True,
        )
        serve_api_workers(settings, log_level=args.log_level)
        return 0
    print(f"Serving the Moderately API on {settings.base_url}", flush=True)
    uvicorn.run(
        create_app(settings.model_copy(update={"migrate_on_startup": False})),
        host=settings.host,
        port=settings.port,
        log_level=args.log_level,
    )
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    migrate(settings)
    print("Database is at the latest schema.")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    import logging

    from moderately.composition import serve_worker

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    overrides: dict[str, Any] = {}
    if args.concurrency is not None:  # the old flag: that many pipeline slots
        overrides["worker_pipeline_slots"] = args.concurrency
    for name in ("pipeline_slots", "dataset_slots"):
        if getattr(args, name) is not None:
            overrides[f"worker_{name}"] = getattr(args, name)
    settings = settings_from(args).model_copy(update=overrides)
    if not args.supervised:  # a supervised worker's server has migrated already
        migrate(settings)
        print(
            f"Worker running {settings.worker_pipeline_slots} pipeline and "
            f"{settings.worker_dataset_slots} dataset job slots; Ctrl-C or SIGTERM stops it",
            flush=True,
        )
    serve_worker(settings, supervised=args.supervised)
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    upgrade_to_head(settings)

    async def work(session: AsyncSession) -> IssuedCredentials:
        return await operator.create_user_with_token(
            session,
            email=args.email,
            full_name=args.full_name,
            team_name=args.team_name,
            team_id=args.team_id,
        )

    issued = run_in_session(settings, work)
    sys.stdout.write(credential_lines(known_base_url(settings), issued))
    return 0


def cmd_create_token(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    upgrade_to_head(settings)

    async def work(session: AsyncSession) -> IssuedCredentials:
        return await operator.create_member_token(
            session, email=args.email, team_id=args.team_id, role=args.role, token_name=args.name
        )

    issued = run_in_session(settings, work)
    sys.stdout.write(credential_lines(known_base_url(settings), issued))
    return 0


def _database_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, help="data directory (default: .data)")
    parser.add_argument(
        "--database-url", help="e.g. postgresql://user@host:5432/db (default: SQLite in data dir)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="moderately", description="Moderately AI platform")
    parser.add_argument("--version", action="version", version=f"moderately {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the API server (migrates and bootstraps)")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument("--mount-prefix", help="serve the API below this path, e.g. /api")
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--no-extensions",
        dest="api_extensions",
        action="store_const",
        const=False,
        help="serve only the published API: no extension operations (MODERATELY_API_EXTENSIONS)",
    )
    serve.add_argument(
        "--storage-url",
        help="where file bytes live: a directory (default <data-dir>/objects) or "
        "s3://bucket?endpoint=http://127.0.0.1:8333&region=us-east-1 (credentials from "
        "MODERATELY_S3_ACCESS_KEY / MODERATELY_S3_SECRET_KEY)",
    )
    serve.add_argument(
        "--workers",
        type=int,
        help="worker processes the server starts and restarts (default 2; 0 runs none: "
        "`moderately worker` processes elsewhere run the jobs)",
    )
    serve.add_argument(
        "--api-workers",
        type=int,
        help="API processes serving the one port (default 1); the job workers (--workers) are "
        "started once whatever this is, and the periodic sweeps run in one process (of all "
        "the servers on the database) at a time (MODERATELY_API_WORKERS)",
    )
    serve.add_argument(
        "--job-backend",
        choices=("database", "procrastinate"),
        help="the job queue (default: database; procrastinate needs PostgreSQL and "
        "`pip install moderately[workers]`)",
    )
    _database_flags(serve)
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="run background jobs (pipeline executions, dataset processing) against the "
        "server's database and object store; run any number, on any machine",
    )
    worker.add_argument(
        "--pipeline-slots",
        type=int,
        help="pipeline executions run at once, each in a process of its own (default 2)",
    )
    worker.add_argument("--dataset-slots", type=int, help="dataset jobs run at once (default 1)")
    worker.add_argument("--concurrency", type=int, help=argparse.SUPPRESS)  # old name
    worker.add_argument("--supervised", action="store_true", help=argparse.SUPPRESS)
    worker.add_argument(
        "--storage-url", help="the server's object store (same value as `serve --storage-url`)"
    )
    worker.add_argument("--log-level", default="info")
    worker.add_argument(
        "--job-backend",
        choices=("database", "procrastinate"),
        help="the queue the server uses (default: database; procrastinate needs PostgreSQL)",
    )
    _database_flags(worker)
    worker.set_defaults(handler=cmd_worker)

    migrate = commands.add_parser("migrate", help="upgrade the database schema to the latest")
    _database_flags(migrate)
    migrate.set_defaults(handler=cmd_migrate)

    admin = commands.add_parser("admin", help="operator tasks")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    create_user = admin_commands.add_parser(
        "create-user", help="create a user, a team membership and an API token"
    )
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--full-name")
    team = create_user.add_mutually_exclusive_group()
    team.add_argument("--team-name", help="create a new team with this name (user is its admin)")
    team.add_argument("--team-id", help="add the user to this existing team (as a member)")
    _database_flags(create_user)
    create_user.set_defaults(handler=cmd_create_user)
    create_token = admin_commands.add_parser(
        "create-token",
        help="an API token for a member of a team (tokens act in their own team only)",
    )
    create_token.add_argument("--email", required=True, help="the member's email")
    create_token.add_argument("--team-id", required=True)
    create_token.add_argument(
        "--role",
        choices=("admin", "member", "readonly"),
        help="the token's role (default: the member's role; it never exceeds it in effect)",
    )
    create_token.add_argument("--name", default="operator CLI", help="the token's name")
    _database_flags(create_token)
    create_token.set_defaults(handler=cmd_create_token)
    return parser


# Options whose value is one of our ids. An id may start with "-" (ids.ALPHABET), which
# argparse would read as a flag; "--team-id -x" is joined into "--team-id=-x" first.
_ID_OPTIONS = frozenset({"--team-id"})


def _join_id_values(argv: Sequence[str]) -> list[str]:
    joined: list[str] = []
    tokens = iter(argv)
    for token in tokens:
        if token in _ID_OPTIONS:
            value = next(tokens, None)
            joined.append(token if value is None else f"{token}={value}")
        else:
            joined.append(token)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    logredact.install()  # uvicorn's access log and every other line, in every command
    args = build_parser().parse_args(_join_id_values(sys.argv[1:] if argv is None else argv))
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except DomainError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())

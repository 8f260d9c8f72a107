"""The contract of moderately.testing, which the SDK's suite and the repo scripts rely on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from api_helpers import POSTGRES_ADMIN_URL

from moderately.testing import (
    Credentials,
    create_postgres_database,
    drop_postgres_database,
    run_server,
)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_run_server(tmp_path: Path, dialect: str) -> None:
    url = create_postgres_database(POSTGRES_ADMIN_URL) if dialect == "postgresql" else None
    try:
        with run_server(data_dir=tmp_path, database_url=url) as server:
            assert server.base_url.startswith("http://127.0.0.1:")
            assert server.settings.database_url == url
            admin = server.admin
            assert isinstance(admin, Credentials) and admin.base_url == server.base_url
            with httpx.Client(base_url=server.base_url) as client:
                auth = {"Authorization": f"Bearer {admin.api_key}"}
                me = client.get("/authentication/whoami", headers=auth)
                assert me.json() == {"userId": admin.user_id}

                other = server.create_user("other@example.com")
                assert other.team_id != admin.team_id
                mate = server.create_user("mate@example.com", team_id=admin.team_id)
                assert mate.team_id == admin.team_id
                named = server.create_user("named@example.com", team_name="Named")
                team = client.get(
                    f"/teams/{named.team_id}", headers={"Authorization": f"Bearer {named.api_key}"}
                )
                assert team.json()["name"] == "Named"

                # callable from inside a running event loop (async test suites)
                async def inside_a_loop() -> Credentials:
                    return server.create_user("async@example.com")

                assert asyncio.run(inside_a_loop()).api_key.startswith("mai_")

        # the same data again: a fresh admin token for the existing admin
        with run_server(data_dir=tmp_path, database_url=url) as again:
            assert again.admin.team_id == admin.team_id and again.admin.api_key != admin.api_key
            response = httpx.get(
                f"{again.base_url}/teams",
                headers={"Authorization": f"Bearer {again.admin.api_key}"},
            )
            assert response.status_code == 200
    finally:
        if url:
            drop_postgres_database(url)

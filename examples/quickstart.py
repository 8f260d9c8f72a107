"""Quickstart: talk to a Moderately platform through the SDK.

Reads MODERATELY_BASE_URL, MODERATELY_API_KEY and MODERATELY_TEAM_ID from the environment
(`make run` sets them from the server's credentials.env) and prints what it does.
"""

from __future__ import annotations

import uuid

from moderatelyai_sdk import ConflictError, ModeratelyAI, NotFoundError


def main() -> None:
    with ModeratelyAI() as client:
        print(f"connected to {client.base_url} as team {client.team_id}")

        users = client.users.list()
        me = users["items"][0]
        print(f"users in my teams: {users['pagination']['totalItems']}; first: {me.display_name()}")
        me = me.update_profile(nickname="quickstart")
        print(f"nickname set: {me.nickname!r} (created {me.formatted_created_at()})")

        team = client.teams.retrieve(client.team_id)
        print(f"team: {team.name} ({team.team_id})")

        suffix = uuid.uuid4().hex[:6]
        names = [f"quickstart-{suffix}-{n}" for n in range(3)]
        agents = [
            client.agents.create(name=name, description="made by quickstart") for name in names
        ]
        print(f"created {len(agents)} agents: {', '.join(a.name for a in agents)}")

        try:
            client.agents.create(name=names[0])
        except ConflictError as error:
            print(f"a duplicate name is refused: {error.message}")

        seen = [a.name for a in client.agents.list(page_size=2).auto_paging_iter()]
        print(f"walked {len(seen)} agents across pages of 2")

        renamed = client.agents.update(agents[0].agent_id, description="renamed by quickstart")
        print(f"updated: {renamed.name} -> {renamed.description!r}")

        for agent in agents:
            client.agents.delete(agent.agent_id)
        try:
            client.agents.retrieve(agents[0].agent_id)
        except NotFoundError as error:
            print(f"deleted agents are gone: {error.message} (request {error.request_id})")

    print("quickstart finished")


if __name__ == "__main__":
    main()

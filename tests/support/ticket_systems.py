"""Ticket systems' documented answers, served by a ServiceFake, and the settings that
point supportbot at them: Zendesk `POST /api/v2/tickets.json` (201 with the ticket),
Jira `POST /rest/api/3/issue` (201 with the key), Linear's GraphQL `issueCreate`."""

from __future__ import annotations

import json

from tests.support.service_fake import Reply, ServiceFake

JSON = {"Content-Type": "application/json"}


def zendesk_settings(service: ServiceFake) -> dict[str, str]:
    return {
        "zendesk_url": service.url,
        "zendesk_email": "bot@acme.example",
        "zendesk_api_token": "zd-0123456789abcdef",
    }


def serve_zendesk(service: ServiceFake, number: int = 35436) -> None:
    ticket = {
        "id": number,
        "url": f"{service.url}/api/v2/tickets/{number}.json",
        "subject": "Support chat",
        "status": "new",
    }
    service.routes["/api/v2/tickets.json"] = lambda *_: Reply(
        201, json.dumps({"ticket": ticket}), JSON
    )


def jira_settings(service: ServiceFake) -> dict[str, str]:
    return {
        "jira_url": service.url,
        "jira_email": "bot@acme.example",
        "jira_api_token": "jira-0123456789abcdef",
    }


def serve_jira(service: ServiceFake, key: str = "SUP-24") -> None:
    issue = {"id": "10000", "key": key, "self": f"{service.url}/rest/api/3/issue/10000"}
    service.routes["/rest/api/3/issue"] = lambda *_: Reply(201, json.dumps(issue), JSON)


def linear_settings(service: ServiceFake, team: str = "team-1") -> dict[str, str]:
    return {
        "linear_api_url": f"{service.url}/graphql",
        "linear_api_key": "lin_api_0123456789abcdef",
        "linear_team_id": team,
    }


def serve_linear(service: ServiceFake, identifier: str = "SUP-7") -> None:
    issue = {
        "id": "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
        "identifier": identifier,
        "url": f"https://linear.app/acme/issue/{identifier}/support-chat",
    }
    body = {"data": {"issueCreate": {"success": True, "issue": issue}}}
    service.routes["/graphql"] = lambda *_: Reply(200, json.dumps(body), JSON)

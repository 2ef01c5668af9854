"""Who is a support lead: configured user ids, or members of a configured user group."""

from __future__ import annotations

import time

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from supportbot.settings import Settings

log = structlog.stdlib.get_logger(__name__)

GROUP_CACHE_S = 300.0


class LeadDirectory:
    def __init__(self, settings: Settings) -> None:
        self.user_ids = set(settings.slack_lead_user_ids)
        self.usergroup = settings.slack_lead_usergroup
        self._members: set[str] = set()
        self._fetched_at = float("-inf")

    async def is_lead(self, client: AsyncWebClient, user_id: str | None) -> bool:
        if not user_id:
            return False
        if user_id in self.user_ids:
            return True
        if not self.usergroup:
            return False
        return user_id in await self._group_members(client)

    async def _group_members(self, client: AsyncWebClient) -> set[str]:
        if time.monotonic() - self._fetched_at > GROUP_CACHE_S:
            try:
                response = await client.usergroups_users_list(usergroup=self.usergroup)
                self._members = set(response.get("users") or [])
                self._fetched_at = time.monotonic()
            except SlackApiError as error:
                # Keep the last known members; refuse rather than guess when there are none.
                log.warning("slack.leads_unavailable", error=error.response.get("error"))
        return self._members

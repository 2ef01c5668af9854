"""Posting the leads' analytics report to Slack (called by the CLI and the scheduler)."""

from __future__ import annotations

from bot.slack.outbound import SafeWebClient
from supportbot.settings import Settings


def post_report(settings: Settings, text: str) -> str:
    """Posts `text` (mrkdwn) to the leads' channel; returns the channel id.

    Raises ValueError when Slack or a channel is not configured, and slack_sdk's
    SlackApiError when Slack refuses.
    """
    channel = settings.slack_leads_channel or settings.slack_escalation_channel
    if settings.slack_bot_token is None or channel is None:
        raise ValueError(
            "posting needs SUPPORTBOT_SLACK_BOT_TOKEN and SUPPORTBOT_SLACK_LEADS_CHANNEL "
            "(or SUPPORTBOT_SLACK_ESCALATION_CHANNEL)"
        )
    client = SafeWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    client.chat_postMessage(channel=channel, text=text, unfurl_links=False)
    return channel

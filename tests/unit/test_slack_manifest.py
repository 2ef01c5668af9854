"""The Slack app manifest matches what the app listens for and calls."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.commands import COMMAND

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "slack-manifest.yaml").read_text())


def test_every_event_the_app_handles_is_subscribed() -> None:
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    handled = {"app_mention", "app_home_opened", "reaction_added", "reaction_removed"}
    handled |= {"assistant_thread_started", "assistant_thread_context_changed"}
    assert handled <= events
    assert {"message.channels", "message.im"} <= events


def test_scopes_cover_the_web_api_methods_the_app_calls() -> None:
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needed = {
        "chat:write",  # chat.postMessage/update/startStream/postEphemeral
        "reactions:write",  # reactions.add/remove
        "reactions:read",
        "channels:history",  # conversations.replies
        "usergroups:read",  # usergroups.users.list
        "assistant:write",  # assistant.threads.*
        "commands",
        "app_mentions:read",
    }
    assert needed <= scopes


def test_the_slash_command_and_request_urls_point_at_the_events_endpoint() -> None:
    [command] = MANIFEST["features"]["slash_commands"]
    assert command["command"] == COMMAND
    settings = MANIFEST["settings"]
    urls = {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    assert urls == {"https://YOUR-HOST/slack/events"}
    assert settings["interactivity"]["is_enabled"] is True
    assert "assistant_view" in MANIFEST["features"]

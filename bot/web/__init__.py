"""The web chat: a streaming HTTP API and a chat page, on the app that serves Slack."""

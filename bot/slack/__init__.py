"""The Slack front end: a Bolt app served at /slack/events or over Socket Mode."""

"""Chat front ends: the Slack app and the web chat, served by one FastAPI app."""

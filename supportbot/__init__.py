"""supportbot: customer-support answers for Slack and web chat, grounded in your docs."""

__version__ = "0.1.0"

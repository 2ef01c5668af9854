"""The single scheduler process and its jobs."""

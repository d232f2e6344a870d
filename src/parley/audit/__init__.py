"""Audit: the append-only log of every moderation and administration event."""

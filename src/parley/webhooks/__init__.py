"""Signed webhooks: per-site subscriptions to comment, vote, report and appeal events."""

"""Notifications: e-mail (reply, moderation decision, appeal outcome, moderator digest) sent from
the job queue, and the in-widget notification list."""

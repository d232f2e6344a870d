"""The moderation workspace at ``/moderate``: queues, comment cards, actions, authors, stories,
site settings, users and roles, health, workload, audit log and transparency report."""

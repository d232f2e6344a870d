"""Admin API: sites, thread settings, open/close — for API tokens of admins."""

"""Accounts: readers, guests, staff; sessions, API tokens and publisher SSO identities."""

"""Contract fixtures: the same app and schema-checking client as the functional suite."""

from __future__ import annotations

from support.apps import app, client, db

__all__ = ["app", "client", "db"]

"""Functional fixtures: the app with a default site ``test``, and an HTTP client for it that checks
every API response against the OpenAPI document (see ``support/apps.py``)."""

from __future__ import annotations

from support.apps import app, client, db

__all__ = ["app", "client", "db"]

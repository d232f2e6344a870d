"""Per-site moderation policy: the typed knobs every phase reads.

A site stores its policy as JSON (``sites.settings["moderation"]``); ``parley moderate --config``
reads the same model from TOML. Every field has a default that is right for a new site.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ModerationPolicy(BaseModel):
    """Thresholds and switches of the moderation phases for one site."""

    model_config = ConfigDict(extra="forbid")

    min_length: int = Field(1, ge=0, le=100_000, description="Shortest body (characters of plain text).")
    max_length: int = Field(5000, ge=1, le=100_000, description="Longest body (characters of source).")
    premoderate_all: bool = Field(False, description="Hold every new comment for a moderator.")
    report_threshold: int = Field(
        3, ge=1, le=1000, description="Reader reports that put a published comment back into the queue."
    )

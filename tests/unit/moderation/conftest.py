from __future__ import annotations

import pytest

from parley.moderation.backends import ModerationBackends


@pytest.fixture
def stores() -> ModerationBackends:
    return ModerationBackends.in_memory()

"""Display names: validity and the look-alike-proof skeleton stored in ``accounts.name_skeleton``.

The skeleton algorithm lives in the moderation engine (``parley.moderation.names``), which also
checks comment names; this module is the accounts domain's narrow door to it.
"""

from __future__ import annotations

import unicodedata

from parley.accounts.errors import NameInvalid
from parley.moderation.names import name_skeleton as engine_skeleton

MIN_VISIBLE = 2
MAX_LENGTH = 60
MAX_IMPORTED_LENGTH = 200  # names brought in by importers and the demo keep their (long) originals


def clean_display_name(name: str, max_length: int = MAX_LENGTH) -> str:
    """NFC, inner whitespace collapsed, trimmed; raises :class:`NameInvalid` when unusable."""
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    visible = sum(1 for ch in name if unicodedata.category(ch)[0] in "LNPS")
    bad = any(unicodedata.category(ch) in ("Cc", "Cs", "Co", "Cn") for ch in name)
    if bad or visible < MIN_VISIBLE or len(name) > max_length:
        raise NameInvalid(params={"min": MIN_VISIBLE, "max": max_length})
    return name


def name_skeleton(name: str) -> str:
    return engine_skeleton(name)

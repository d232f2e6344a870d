"""The reason codes a moderator picks when rejecting or sanctioning, and their legal grounds.

Each code has an English label (the gettext msgid; German in ``workspace.po``) and the ground a
statement of reasons names (DSA Art. 17(3)(d)/(e)): the site's terms, or a law for illegal content.
Codes are stable: statements, the audit log and the transparency report use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class GroundType(StrEnum):
    TERMS = "terms_of_service"
    ILLEGAL = "illegal_content"


@dataclass(frozen=True, slots=True)
class ReasonCode:
    code: str
    label: str
    ground: GroundType = GroundType.TERMS
    law: str = ""  # the legal reference for illegal content


REASON_CODES: tuple[ReasonCode, ...] = (
    ReasonCode("insult", "Insult or personal attack"),
    ReasonCode("hate", "Hateful or discriminating content"),
    ReasonCode("spam", "Spam or advertising"),
    ReasonCode("copy_spam", "Copied comment (copy wave)"),
    ReasonCode("off_topic", "Off topic"),
    ReasonCode("disinformation", "Deliberate disinformation"),
    ReasonCode("impersonation", "Impersonating another person"),
    ReasonCode("privacy", "Personal data of others"),
    ReasonCode("incitement", "Incitement to hatred (illegal)", GroundType.ILLEGAL, "§ 130 StGB"),
    ReasonCode("threat", "Threat of violence (illegal)", GroundType.ILLEGAL, "§ 241 StGB"),
    ReasonCode("defamation", "Defamation (illegal)", GroundType.ILLEGAL, "§§ 186, 187 StGB"),
    ReasonCode("illegal_other", "Other illegal content", GroundType.ILLEGAL, ""),
    ReasonCode("other", "Other breach of the community rules"),
)
BY_CODE = {r.code: r for r in REASON_CODES}
APPROVE_CODE = "approved"
UNDONE_CODE = "undone"
SPECIAL_LABELS = {
    APPROVE_CODE: "Approved by a moderator",
    UNDONE_CODE: "A moderator's action was undone; the comment waits for a decision again",
}


def label_for(code: str) -> str:
    """The English label (msgid) of any code a moderator decision can carry."""
    return SPECIAL_LABELS.get(code) or reason_for(code).label


def reason_for(code: str) -> ReasonCode:
    return BY_CODE.get(code, BY_CODE["other"])


def is_reason_code(code: str) -> bool:
    return code in BY_CODE

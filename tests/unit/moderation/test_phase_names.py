from __future__ import annotations

import pytest

from parley.errors import ErrorCode
from parley.moderation.names import (
    NameHolder,
    NameInvalid,
    NameStatus,
    NameTaken,
    check_name_available,
    evaluate_name,
    lookup_from_names,
    name_skeleton,
)
from parley.moderation.phases.names import NamesPhase
from parley.moderation.types import Verdict

from .helpers import make_ctx, seed_comments

SEKTGLAS = "Sektglas Grünling"


@pytest.mark.parametrize(
    "forged",
    [
        "Sektglas Grϋnling",  # Greek small upsilon with dialytika
        "SektgIas Grünling",  # capital I for l
        "Sektg1as Grünling",
        "sektglas grünling",
        "Sektglas  Grünling",
        "Sektglas_Grünling",
        "Sektglas.Grünling",
        "Sektglas Grunling",
        "Ｓｅｋｔｇｌａｓ Grünling",
        "Sekt\u200bglas Grünling",
        "Sеktglаs Grünling",  # Cyrillic е, а
        "Sektglas Grünling 🥂",
    ],
)
def test_forged_seed_names_share_the_skeleton(forged: str) -> None:
    assert name_skeleton(forged) == name_skeleton(SEKTGLAS)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sektglas Grünling", "Sektglas Grünlinge"),
        ("Anna", "Hanna"),
        ("rudi1234", "rudi1243"),
        ("Lukas", "Lucas"),
    ],
)
def test_different_names_stay_different(a: str, b: str) -> None:
    assert name_skeleton(a) != name_skeleton(b)


def test_all_seed_names_are_distinct_and_readable() -> None:
    skeletons = [name_skeleton(c["name"]) for c in seed_comments()]
    assert all(skeletons)
    assert len(set(skeletons)) == len(skeletons)


def test_evaluate_name_names_the_collision() -> None:
    lookup = lookup_from_names({SEKTGLAS: 7})
    check = evaluate_name("Sektglas Grϋnling", lookup=lookup, account_id=8)
    assert check.status is NameStatus.TAKEN
    assert check.collides_with == SEKTGLAS
    assert check.holder == NameHolder(SEKTGLAS, 7)
    # the holder itself may show a variant of its own name
    assert evaluate_name("Sektglas Grϋnling", lookup=lookup, account_id=7).ok
    # a guest (no account) collides with any account
    assert evaluate_name("SektgIas Grünling", lookup=lookup).status is NameStatus.TAKEN


def test_reserved_names_fragments_and_the_site_name() -> None:
    assert evaluate_name("Redaktion").status is NameStatus.RESERVED
    assert evaluate_name("R3dakti0n").collides_with == "Redaktion"
    assert evaluate_name("Аdmin").status is NameStatus.RESERVED  # Cyrillic А
    assert evaluate_name("Die Redaktion", reserved_fragments=["Redaktion"]).collides_with == "Redaktion"
    assert evaluate_name("Die Redaktion").ok  # fragments are opt-in at this level
    assert evaluate_name("exxpress", site_name="eXXpress").status is NameStatus.RESERVED
    assert evaluate_name("Redaktion", staff=True).ok
    assert evaluate_name("Badminton-Fan").ok  # equality, not substring, for reserved names


def test_unreadable_names_are_invalid() -> None:
    assert evaluate_name("🤩☮️").status is NameStatus.INVALID
    with pytest.raises(NameInvalid):
        check_name_available("\u200b\u200b")


def test_check_name_available_raises_name_taken_with_the_colliding_name() -> None:
    with pytest.raises(NameTaken) as caught:
        check_name_available("SektgIas Grünling", lookup=lookup_from_names([SEKTGLAS]))
    assert caught.value.code is ErrorCode.NAME_TAKEN
    assert caught.value.status == 409
    assert caught.value.params == {"name": SEKTGLAS}
    assert check_name_available("Neuer Leser", lookup=lookup_from_names([SEKTGLAS])) == "neuerieser"


def test_phase_holds_a_look_alike_of_another_account(stores) -> None:  # type: ignore[no-untyped-def]
    stores.names.claim(name_skeleton(SEKTGLAS), NameHolder(SEKTGLAS, 1))
    result = NamesPhase().run(make_ctx("Hallo", stores=stores, account_id=2, name="Sektglas Grϋnling"))
    (reason,) = result.reasons
    assert result.verdict is Verdict.HOLD
    assert reason.code == "name_impersonation"
    assert reason.params == {"name": "Sektglas Grϋnling", "other": SEKTGLAS, "kind": "account"}
    assert reason.evidence["colliding_name"] == SEKTGLAS
    assert reason.evidence["colliding_account"] == 1
    assert "name_mixed_script" in result.tags
    # the holder itself posts under its name: nothing
    assert NamesPhase().run(make_ctx("Hallo", stores=stores, account_id=1, name=SEKTGLAS)).reasons == ()


def test_phase_rejects_reserved_names_unless_staff() -> None:
    result = NamesPhase().run(make_ctx("Hallo", name="Moderat0r"))
    assert result.verdict is Verdict.REJECT
    assert result.reasons[0].params["kind"] == "reserved"
    assert NamesPhase().run(make_ctx("Hallo", name="Moderator", role="moderator")).reasons == ()
    assert NamesPhase().run(make_ctx("Hallo", name="Die Redaktion")).verdict is Verdict.REJECT


def test_phase_skips_comments_without_a_shown_name() -> None:
    assert NamesPhase().run(make_ctx("Hallo", name="")).reasons == ()

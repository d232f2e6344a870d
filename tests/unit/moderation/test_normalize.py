from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.moderation.normalize import Evasion, fold, normalize

TROTTEL_VARIANTS = {
    "plain": "Trottel",
    "spaced": "T r o t t e l",
    "wide spaced": "T  r  o  t  t  e  l",
    "dotted": "T.r.o.t.t.e.l",
    "dotted and spaced": "T . r . o . t . t . e . l",
    "hyphenated": "T-r-o-t-t-e-l",
    "underscored": "T_r_o_t_t_e_l",
    "leet": "Tr0tt3l",
    "leet symbols": "7r0773l",
    "cyrillic": "Тrоttеl",  # Т, о, е are Cyrillic
    "greek": "Τrοttεl",  # Τ, ο, ε are Greek
    "full-width": "Ｔｒｏｔｔｅｌ",
    "mathematical": "𝐓𝐫𝐨𝐭𝐭𝐞𝐥",
    "circled": "ⓣⓡⓞⓣⓣⓔⓛ",
    "zero-width": "Tro\u200btt\u200del",
    "soft hyphen": "Trot\u00adtel",
    "bidi control": "Trot\u202ett\u202cel",
    "repeated": "Trooootttel",
    "upper": "TROTTEL",
    "accents": "Tróttél",
}


@pytest.mark.parametrize("written", TROTTEL_VARIANTS.values(), ids=TROTTEL_VARIANTS.keys())
def test_evasions_fold_to_the_plain_word(written: str) -> None:
    nt = normalize(f"Du bist ein {written}!")
    assert nt.words[-1] == fold("Trottel") == "trotel"
    token = nt.tokens[-1]
    assert nt.original[token.start : token.end] == written


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Lügenpresse", "Luegenpresse"),
        ("LÜGENPRESSE", "Luegenpresse"),
        ("Lu\u0308genpresse", "Lügenpresse"),  # combining diaeresis
        ("Straße", "Strasse"),
        ("STRASSE", "Straße"),
        ("Grϋnling", "Grünling"),  # Greek upsilon with dialytika
        ("Gröler", "Groeler"),
        ("Äpfel", "Aepfel"),
    ],
)
def test_german_spellings_fold_together(a: str, b: str) -> None:
    assert fold(a) == fold(b)


def test_evasion_flags_name_what_was_seen() -> None:
    assert normalize("T r o t t e l").evasions == Evasion.SPACED
    assert normalize("Tr0tt3l").evasions == Evasion.LEET
    assert normalize("Тrоttеl").evasions == Evasion.CONFUSABLE
    assert normalize("Ｔｒｏｔｔｅｌ").evasions == Evasion.COMPATIBILITY
    assert normalize("Tro\u200bttel").evasions == Evasion.INVISIBLE
    assert normalize("Trooottel").evasions == Evasion.REPEATED
    assert normalize("Ein ganz normaler Satz über Straßen.").evasions == Evasion.NONE


def test_whole_words_of_another_script_are_not_evasions() -> None:
    nt = normalize("Москва und Ελλάδα")
    assert not nt.evasions & Evasion.CONFUSABLE


def test_spaced_runs_keep_wider_gaps_as_word_breaks() -> None:
    assert normalize("d u  b i s t  e i n  T r o t t e l").words == ["du", "bist", "ein", "trotel"]
    assert normalize("W.a.f.f.e.n und T r u m p").words == ["wafen", "und", "trump"]


def test_seed_spaced_words() -> None:
    text = "Laut k y i v p o s t von gestern. Und in K u r s k, die W a f f e n, die U S A ?"
    assert normalize(text).words == [
        *("laut", "kyivpost", "von", "gestern", "und", "in", "kursk", "die", "wafen", "die", "usa"),
    ]


@pytest.mark.parametrize(
    "text",
    ["z. B. heute", "E:U", "a, b, c", "1 2 3", "Seite 3 - 4"],
)
def test_things_that_are_not_spaced_words(text: str) -> None:
    assert not normalize(text).evasions & Evasion.SPACED


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("30-tägige Waffenruhe", ["30taegige", "wafenruhe"]),
        ("im Jahr 2024 rund 100.000 Mann", ["im", "jahr", "2024", "rund", "100", "000", "man"]),
        ("der 30er Bus", ["der", "30er", "bus"]),
        ("Trottel!!! Wirklich?!", ["trotel", "wirklich"]),
        ("@Sektglas hat recht", ["sektglas", "hat", "recht"]),
        ("Preis: 100€", ["preis", "100"]),
    ],
)
def test_numbers_and_punctuation_stay_what_they_are(text: str, words: list[str]) -> None:
    assert normalize(text).words == words


def test_hyphenated_compounds_have_a_joined_and_a_split_reading() -> None:
    nt = normalize("Die Lügen-Presse lügt")
    assert [v.name for v in nt.views] == ["joined", "split"]
    assert nt.views[0].key == " die luegenprese luegt "
    assert nt.views[1].key == " die luegen prese luegt "
    compound = nt.tokens[1]
    assert nt.written(compound.span) == "Lügen-Presse"
    assert [nt.written(p.span) for p in compound.parts] == ["Lügen", "Presse"]


def test_ambiguous_i_and_l_get_an_alternate_reading() -> None:
    nt = normalize("Arsch1och und ArschIoch")
    assert nt.words == ["arschioch", "und", "arschioch"]
    assert nt.views[-1].name == "alternate"
    assert nt.views[-1].key == " arschloch und arschloch "


def test_view_spans_map_back_to_whole_words() -> None:
    text = "Ja, du bist ein T r o t t e l, wirklich."
    nt = normalize(text)
    view = nt.views[0]
    k0 = view.key.index("trotel")
    span = view.span(k0, k0 + len("trotel"))
    assert text[span.start : span.end] == "T r o t t e l"
    # a match inside a word still reports the whole word as written
    k1 = view.key.index("wirklich") + 2
    assert nt.written(view.span(k1, k1 + 3)) == "wirklich"


def test_empty_and_symbol_only_texts() -> None:
    for text in ("", "   ", "!!! ???", "\u200b\u200b", "🤩☮️"):
        nt = normalize(text)
        assert nt.words == []
        assert nt.tokens == ()


# Letters, digits, separators, leet symbols and the characters evasions are made of: zero-width,
# soft hyphen, combining marks, Cyrillic and Greek look-alikes, full-width, mathematical, emoji, bidi.
_CODES = (0x200B, 0xAD, 0x308, 0x301, 0x430, 0x435, 0x43E, 0x3C1, 0x3BF, 0x3CB)
_CODES += (0xFF34, 0x1D413, 0x1F929, 0x202E)
_SPECIAL = [chr(c) for c in _CODES]
_ALPHABET = st.sampled_from([*"abcdefghijklmnopqrstuvwxyzäöüßABCTIlO0134579 .-_!|@$€,;:?\n", *_SPECIAL])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=120))
def test_spans_always_lie_inside_the_original(text: str) -> None:
    nt = normalize(text)
    previous_end = 0
    for token in nt.tokens:
        assert 0 <= token.start < token.end <= len(text)
        assert token.start >= previous_end  # in order, not overlapping
        previous_end = token.end
        for part in token.parts:
            assert token.start <= part.start < part.end <= token.end
    assert [t.key for t in nt.tokens] == nt.words
    for view in nt.views:
        assert len(view.starts) == len(view.tokens)
        for i, start in enumerate(view.starts):
            span = view.span(start, start + 1)
            assert 0 <= span.start < span.end <= len(text)
            assert span == view.tokens[i].span


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=80))
def test_normalizing_is_deterministic_and_keys_are_clean(text: str) -> None:
    a, b = normalize(text), normalize(text)
    assert [v.key for v in a.views] == [v.key for v in b.views]
    for view in a.views:
        assert view.key.startswith(" ")
        assert view.key.endswith(" ")
        assert "  " not in view.key or view.key == "  "
        assert "\x01" not in view.key

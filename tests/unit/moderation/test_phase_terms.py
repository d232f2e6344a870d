from __future__ import annotations

import pytest

from parley.moderation.normalize import normalize
from parley.moderation.phases.terms import TermsPhase
from parley.moderation.policy import TermsPolicy
from parley.moderation.terms import TermMatcher, TermMode, compile_terms, parse_term
from parley.moderation.types import Verdict

from .helpers import make_ctx, policy, seed_comments

# A realistic German list: insults, slurs and the words whose substrings cause Scunthorpe problems.
BANNED = [
    "Trottel",
    "Idiot",
    "Arschloch",
    "Arsch",
    "Anal",
    "Schwanz",
    "Hure",
    "Spast",
    "Fotze",
    "Wichser",
    "Lügenpresse",
    "Volksverräter",
    "Hurensohn",
    "Missgeburt",
]
SUSPECT = ["Systempresse", "Gutmensch*", "Staatsfunk"]
POLICY = policy(terms={"banned": BANNED, "suspect": SUSPECT})


def run(text: str, pol: object = POLICY) -> tuple[Verdict, list[tuple[str, str, str]]]:
    ctx = make_ctx(text, pol=pol)  # type: ignore[arg-type]
    result = TermsPhase().run(ctx)
    return result.verdict, [(r.code, r.params["term"], r.params.get("written", "")) for r in result.reasons]


EVASIONS = [
    "Du bist ein Trottel.",
    "Du bist ein T r o t t e l.",
    "Du bist ein T.r.o.t.t.e.l",
    "Du bist ein T-r-o-t-t-e-l",
    "Du bist ein T_r_o_t_t_e_l",
    "Du bist ein Tr0tt3l",
    "Du bist ein Trооttеl",  # Cyrillic о, е
    "Du bist ein Τrοttεl",  # Greek Τ, ο, ε
    "Du bist ein Ｔｒｏｔｔｅｌ",
    "Du bist ein Tro\u200bttel",
    "Du bist ein Trooooottel",
    "Du bist ein TROTTEL!!!",
    "d u  b i s t  e i n  T r o t t e l",
    "dubisteintrottel? nein: d u b i s t e i n t r o t t e l",
    "Das ist Luegenpresse",
    "Das ist Lügen-Presse",
    "Das ist L ü g e n p r e s s e",
    "Du Arsch1och",
    "Du ArschIoch",
    "Du @rschloch",
    "Ein Volksverraeter!",
    "Ein Vоlksvеrrätеr",
    "Du H*u*r*e*n*s*o*h*n",
    "Du Miss-Geburt",
]


@pytest.mark.parametrize("text", EVASIONS)
def test_evasions_are_rejected(text: str) -> None:
    verdict, reasons = run(text)
    assert verdict is Verdict.REJECT, reasons
    assert all(code == "banned_term" for code, _, _ in reasons)


CONTROLS = [
    "Der Trottoir vor dem Haus ist frisch gepflastert.",
    "Die Lügen des Ministers wurden von der Presse aufgedeckt.",
    "Die Lügen des Ministers … die Presse schweigt dazu.",
    "Die Analyse der Daten dauert noch.",
    "Der Kanal ist wegen Hochwasser gesperrt.",
    "Die Soldaten marschieren im Gleichschritt, der Marsch dauert Stunden.",
    "Der Hai hat eine große Schwanzflosse.",
    "Hurtig ging er zum Bahnhof, die Hurrikansaison beginnt.",
    "Die Spastik ist eine Störung der Muskelspannung.",
    "Er muss vor der Hochzeit noch die Schuhe wichsen.",
    "Die Fotzelschnitte ist ein Schweizer Rezept.",
    "Die Idiotie dieser Debatte ist offensichtlich.",  # "Idiot" is a whole-word term
    "Das Volk hat verraten, was es denkt.",
    "Sie sagte: Hure und Madonna sei ein altes Motiv der Literatur.",  # the word itself: see below
    "Die Geburt des Kindes verlief ohne Komplikationen, Miss Marple ermittelt.",
    "Ein Gutachten zum Staat und zum Funk liegt vor.",
    "Wir warten auf die U S A und die E U.",
    "Ich habe die Arschbombe im Freibad gesehen.",
]


@pytest.mark.parametrize("text", [c for c in CONTROLS if "Hure und Madonna" not in c])
def test_scunthorpe_controls_publish(text: str) -> None:
    assert run(text) == (Verdict.PUBLISH, [])


def test_a_banned_word_is_banned_even_when_quoted() -> None:
    # The engine matches words, not intent: a quoted slur is found (and a moderator decides).
    assert run("Sie sagte: Hure und Madonna sei ein altes Motiv.")[0] is Verdict.REJECT


def test_all_seed_comments_publish_under_a_realistic_list() -> None:
    for comment in seed_comments():
        assert run(comment["text"]) == (Verdict.PUBLISH, []), comment["id"]


def test_all_seed_comments_publish_under_an_empty_list() -> None:
    for comment in seed_comments():
        assert run(comment["text"], policy())[0] is Verdict.PUBLISH


def test_suspect_terms_hold_and_banned_terms_win() -> None:
    assert run("Der Staatsfunk lügt") == (Verdict.HOLD, [("suspect_term", "Staatsfunk", "Staatsfunk")])
    verdict, reasons = run("Der Staatsfunk, diese Trottel")
    assert verdict is Verdict.REJECT
    assert [r[0] for r in reasons] == ["suspect_term", "banned_term"]


def test_evidence_names_the_term_and_the_words_as_written() -> None:
    text = "Ja, du bist ein T r o t t e l, wirklich."
    result = TermsPhase().run(make_ctx(text, pol=POLICY))
    (reason,) = result.reasons
    assert reason.params == {"term": "Trottel", "written": "T r o t t e l"}
    assert reason.span is not None
    assert text[reason.span.start : reason.span.end] == "T r o t t e l"
    assert reason.detail == 'Contains the banned term "Trottel" (written as "T r o t t e l").'
    assert reason.evidence["evasions"] == ["spaced"]
    assert "evasion:spaced" in result.tags


def test_repeated_term_is_one_reason_with_a_count() -> None:
    result = TermsPhase().run(make_ctx("Trottel, Trottel, T r o t t e l!", pol=POLICY))
    (reason,) = result.reasons
    assert reason.evidence["count"] == 3
    assert reason.params["written"] == "Trottel"


@pytest.mark.parametrize(
    ("term", "text", "hit"),
    [
        ("trottel", "Du Volltrottel", False),
        ("*trottel", "Du Volltrottel", True),
        ("*trottel", "Du Trottel", True),
        ("*trottel", "Du Trottelkönig", False),
        ("trottel*", "Du Trottelkönig", True),
        ("trottel*", "Der Trottoir", False),
        ("*rott*", "Die Karotte ist verrottet", True),
        ("idiot*", "Idioten überall, idiotisch", True),
        ("lügen presse", "die Lügen Presse", True),
        ("lügen presse", "die Lügenpresse", False),  # a phrase needs its words
        ("lügen presse", "die Lügen des Ministers und die Presse", False),
        ("lügenpresse", "die Lügen Presse", False),
    ],
)
def test_term_modes(term: str, text: str, hit: bool) -> None:
    matcher = TermMatcher([parse_term(term, "banned")])
    assert bool(matcher.find(normalize(text))) is hit


def test_parse_term_modes_and_errors() -> None:
    assert parse_term("Idiot*", "banned").mode is TermMode.PREFIX
    assert parse_term("*trottel", "banned").mode is TermMode.SUFFIX
    assert parse_term("*rott*", "banned").mode is TermMode.INFIX
    assert parse_term("Lügen-Presse", "banned").keys == ("luegenprese", "luegen prese")
    for bad in ("a*b", "**x", "x**", "*", "  ", "!!!", "x" * 201):
        with pytest.raises(ValueError, match=r"."):
            parse_term(bad, "banned")


def test_bad_terms_are_a_policy_error() -> None:
    with pytest.raises(ValueError, match="only stand once"):
        TermsPolicy(banned=("tro*ttel",))


def test_matchers_are_cached_per_term_list_version() -> None:
    a = TermsPolicy(banned=("trottel",), suspect=("x",))
    b = TermsPolicy(banned=("trottel",), suspect=("x",))
    c = TermsPolicy(banned=("trottel", "idiot"))
    assert a.version == b.version != c.version
    assert compile_terms(a) is compile_terms(b)
    assert compile_terms(a) is not compile_terms(c)


def test_no_terms_means_no_work() -> None:
    assert TermsPhase().run(make_ctx("Trottel", pol=policy())).reasons == ()


def test_long_adversarial_input_is_handled() -> None:
    text = ("a " * 3000) + "T r o t t e l " + ("Trottoir " * 500)
    verdict, reasons = run(text)
    assert verdict is Verdict.REJECT
    assert [r[1] for r in reasons] == ["Trottel"]

"""The widget bundle: assembled from its sources without a build tool, within its size budget, with
both message catalogues complete."""

from __future__ import annotations

import json
import re
from importlib import resources

from parley.embed.bundle import BUDGET_GZIP_BYTES, LANGUAGES, build, compact_css, compact_js, messages


def source(name: str) -> str:
    return (resources.files("parley.embed") / "assets" / name).read_text(encoding="utf-8")


def test_the_widget_stays_within_15_kb_gzipped() -> None:
    bundle = build("test")
    assert len(bundle.gzipped) <= BUDGET_GZIP_BYTES, (
        f"embed.js is {len(bundle.gzipped)} bytes gzipped; the budget (JS + CSS) is {BUDGET_GZIP_BYTES}"
    )


def test_placeholders_are_filled_and_the_digest_names_the_content() -> None:
    a, b = build("1.0"), build("1.0")
    assert a.digest == b.digest
    assert len(a.digest) == 16
    assert build("2.0").digest != a.digest
    text = a.body.decode()
    for placeholder in ("__CSS__", "__MESSAGES__", "__VERSION__"):
        assert placeholder not in text
    assert 'VERSION = "1.0"' in text
    assert "eval(" not in text  # works under a CSP without unsafe-eval
    assert "new Function" not in text


def test_every_message_the_widget_uses_exists_in_every_language() -> None:
    js = source("widget.js")
    used = set(re.findall(r"\bL\.(\w+)", js)) | set(re.findall(r"\bt\('(\w+)'", js))
    used |= {f"sort_{s}" for s in ("best", "top", "newest", "oldest")}
    reasons = re.search(r"REASONS = \[([^\]]+)\]", js)
    assert reasons is not None
    used |= {f"r_{r}" for r in re.findall(r"'(\w+)'", reasons.group(1))}
    used |= {"role_moderator", "role_admin", "held", "rejected", "login", "register"}
    # keys built at run time: a prefix in the source, the rest from the API
    prefixes = {k for k in used if k.endswith("_")}
    assert prefixes <= {"s_"}, prefixes
    used -= prefixes
    used |= {f"s_{k}" for k in ("suspension", "ban", "premoderate", "warning")}  # sanction kinds
    used |= {f"ap_{s}" for s in ("open", "upheld", "reversed")}  # appeal statuses
    used |= {"o_kept", "o_removed"}  # outcomes of a reader's report
    catalogues = messages()
    assert set(catalogues) == set(LANGUAGES)
    for lang, catalogue in catalogues.items():
        assert used <= set(catalogue), f"{lang} lacks {sorted(used - set(catalogue))}"
        assert set(catalogue) == set(catalogues["de"]), lang
        for key, value in catalogue.items():
            if isinstance(value, list):
                assert len(value) == 2, (lang, key)
                assert all("{n}" in v for v in value), (lang, key)


def test_compaction_keeps_code_and_drops_comments() -> None:
    js = "// header\n(function () {\n  // inner\n  var a = 'http://x//y';\n\n  return a;\n})();\n"
    assert compact_js(js) == "(function () {\nvar a = 'http://x//y';\nreturn a;\n})();\n"
    css = "/* c */\n.a > .b { color : red ; }\n"
    assert compact_css(css) == ".a>.b{color:red}"
    assert json.loads(json.dumps(compact_css(source("widget.css"))))

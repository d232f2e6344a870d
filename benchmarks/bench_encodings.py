"""What Brotli and gzip cost and save on Parley's own thread JSON (decision 0010).

Builds threads through the app as ``parley serve`` builds it (fresh SQLite database, the tests'
site), with comment bodies taken from the paragraphs of the real comment section in
``../shared/fixtures/news-article-with-comments.de.txt`` (one to three per comment, authors and
votes drawn at random, a third of the comments replies), reads each view as an anonymous reader
without compression, and then times every coding of those exact bytes in this process: the
median of ``--repeats`` runs, milliseconds of CPU, and the size against gzip's.

Views: the whole thread (``view=flat``) of 10 / 100 / 1,000 comments and the first page
(``limit=50&replies=3``) of the 1,000-comment thread.

    .venv/bin/python benchmarks/bench_encodings.py [--sizes 10,100,1000] [--repeats 9]

Not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT.parent / "shared" / "fixtures" / "news-article-with-comments.de.txt"
sys.path.insert(0, str(ROOT / "tests"))

from fastapi.testclient import TestClient  # noqa: E402

from parley.clock import FrozenClock  # noqa: E402
from parley.db import migrate  # noqa: E402
from parley.web.encodings import encode  # noqa: E402
from support.apps import make_test_app  # noqa: E402
from support.factories import make_comments  # noqa: E402

CODINGS: dict[str, Callable[[bytes], bytes]] = {
    "gzip 6": lambda b: encode(b, "gzip"),
    "br 4": lambda b: encode(b, "br", quality=4),
    "br 5 (used)": lambda b: encode(b, "br"),
    "br 6": lambda b: encode(b, "br", quality=6),
}


def paragraphs() -> list[str]:
    lines = [line.strip() for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if len(line) > 40 and not line.endswith("sagt:")]


def seed(app: object, clock: FrozenClock, key: str, n: int, rng: random.Random) -> None:
    db = app.state.registry.db  # type: ignore[attr-defined]
    texts = paragraphs()
    ids: list[int] = []
    for i in range(n):
        body = "\n\n".join(rng.sample(texts, rng.randint(1, 3))).replace("{", "(").replace("}", ")")
        parent = rng.choice(ids) if ids and i % 3 == 2 else None
        name = f"{rng.choice(('rudi', 'Leser', 'Anna', 'wiener', 'Beobachter'))}{rng.randint(1, 9999)}"
        ids += make_comments(db, clock, key, 1, text=body, parent_id=parent, author=name)


def timed(fn: Callable[[bytes], bytes], body: bytes, repeats: int) -> tuple[float, int]:
    times = []
    out = b""
    for _ in range(repeats):
        start = time.process_time()
        out = fn(body)
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times), len(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    from conftest import make_settings  # the tests' settings: a private data directory, no jobs

    rng = random.Random(7)
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(f"sqlite:///{tmp}/bench.db", Path(tmp), log_level="ERROR")
        migrate.upgrade(settings)
        app = make_test_app(settings, clock)
        views: list[tuple[str, str]] = []
        for n in (int(s) for s in args.sizes.split(",")):
            seed(app, clock, f"t{n}", n, rng)
            views.append((f"whole thread, {n:,} comments", f"/api/v1/threads/t{n}/comments?view=flat"))
        biggest = max(int(s) for s in args.sizes.split(","))
        views.append(
            (f"first page of {biggest:,}", f"/api/v1/threads/t{biggest}/comments?limit=50&replies=3")
        )
        with TestClient(app, base_url="http://testserver") as client:
            texts = paragraphs()
            print(
                f"{len(texts)} paragraphs ({sum(map(len, texts)):,} characters) to draw bodies from: "
                "threads longer than ~15 comments repeat them, which favours Brotli's larger window"
            )
            print(f"{'view':34} {'JSON':>10}  " + "  ".join(f"{name:>22}" for name in CODINGS))
            for label, path in views:
                r = client.get(path, headers={"Accept-Encoding": "identity"})
                r.raise_for_status()
                body = r.content
                results = {name: timed(fn, body, args.repeats) for name, fn in CODINGS.items()}
                gz = results["gzip 6"][1]
                cells = [f"{ms:6.2f} ms {size:>8,} {size / gz:5.0%}" for ms, size in results.values()]
                print(f"{label:34} {len(body):>10,}  " + "  ".join(f"{c:>22}" for c in cells))
        app.state.registry.close()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()

"""Import throughput and peak memory: a generated WordPress export through ``parley import wordpress``.

The export looks like a news site's: 1,000 posts, comments spread unevenly over them, about a third
of them replies (up to five deep), HTML in bodies (links, bold, quotes), German and other non-ASCII
names, about 4 % spam, 2 % held, 1 % trash, and pingbacks/trackbacks to skip.

    .venv/bin/python benchmarks/bench_import.py [--comments 100000] [--database-url URL] [--keep]

Without ``--database-url`` a fresh SQLite file is used. The import runs as a separate
``parley import wordpress`` process (what an operator runs); its wall time and peak RSS (the
child's ``ru_maxrss``) are reported as one JSON object, with the file size and a second run's time
(the idempotent re-run, which adds nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
PARLEY = ROOT / ".venv" / "bin" / "parley"

FIRST = ["Jürgen", "Ölga", "Max", "Zoë", "Anna", "Björn", "Søren", "Łukasz", "Ayşe", "Miloš", "Grete", "Ida"]
LAST = ["Größ", "Müller", "Straße", "Nguyễn", "Dvořák", "Öztürk", "Weiß", "Łęcki", "Kovač", "Håkansson"]
WORDS = [
    *("die", "Stadt", "plant", "eine", "neue", "Straßenbahn", "und", "der", "Gemeinderat", "diskutiert"),
    *("über", "Kosten", "Nutzen", "Bürgerinnen", "fordern", "mehr", "Radwege", "während", "andere"),
    *("den", "Autoverkehr", "verteidigen"),
]


def body(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 60))]
    text = " ".join(words).capitalize() + "."
    roll = rng.random()
    if roll < 0.2:
        text += f' Siehe <a href="https://example.org/{rng.randint(1, 10**6)}">hier</a>.'
    elif roll < 0.3:
        text = f"<blockquote>{' '.join(words[:5])}</blockquote>\n{text}"
    elif roll < 0.45:
        text = text.replace(words[0], f"<b>{words[0]}</b>", 1)
    if rng.random() < 0.3:
        text += "\n\nZweiter Absatz mit Umlauten: äöüß."
    return text


def generate(path: Path, comments: int, posts: int = 1000, seed: int = 7) -> int:
    """Write the WXR; returns how many items (pingbacks included) it holds."""
    rng = random.Random(seed)
    start = datetime(2019, 1, 1, tzinfo=UTC)
    weights = [rng.paretovariate(1.2) for _ in range(posts)]
    total = sum(weights)
    per_post = [max(1, int(comments * w / total)) for w in weights]
    per_post[0] += comments - sum(per_post)
    authors = [
        (f"{rng.choice(FIRST)} {rng.choice(LAST)}", f"user{i}@example.org") for i in range(comments // 8)
    ]
    cid = 0
    items = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n<title>Bench</title>\n'
            "<wp:wxr_version>1.2</wp:wxr_version>\n"
        )
        for p, n in enumerate(per_post, start=1):
            when = start + timedelta(hours=p * 7)
            out.write(
                f"<item><title>Artikel {p}: Straßenbahn</title><link>https://bench.example/{p}/</link>"
                f"<wp:post_id>{p}</wp:post_id><wp:post_type>post</wp:post_type><wp:status>publish</wp:status>"
                f"<wp:comment_status>open</wp:comment_status>"
                f"<wp:post_date_gmt>{when:%Y-%m-%d %H:%M:%S}</wp:post_date_gmt>\n"
            )
            ids: list[tuple[int, int]] = []  # (id, depth) of this post's comments
            for _ in range(n):
                cid += 1
                items += 1
                parent, depth = 0, 0
                if ids and rng.random() < 0.35:
                    parent, pdepth = rng.choice(ids[-50:])
                    if pdepth < 5:
                        depth = pdepth + 1
                    else:
                        parent = 0
                name, email = rng.choice(authors)
                roll = rng.random()
                approved = "spam" if roll < 0.04 else "0" if roll < 0.06 else "trash" if roll < 0.07 else "1"
                kind = "pingback" if rng.random() < 0.02 else "comment"
                when += timedelta(minutes=rng.randint(1, 30))
                out.write(
                    "<wp:comment>"
                    f"<wp:comment_id>{cid}</wp:comment_id>"
                    f"<wp:comment_author><![CDATA[{name}]]></wp:comment_author>"
                    f"<wp:comment_author_email>{escape(email)}</wp:comment_author_email>"
                    f"<wp:comment_author_IP>203.0.113.{rng.randint(1, 254)}</wp:comment_author_IP>"
                    f"<wp:comment_date_gmt>{when:%Y-%m-%d %H:%M:%S}</wp:comment_date_gmt>"
                    f"<wp:comment_content><![CDATA[{body(rng)}]]></wp:comment_content>"
                    f"<wp:comment_approved>{approved}</wp:comment_approved>"
                    f"<wp:comment_type>{kind}</wp:comment_type>"
                    f"<wp:comment_parent>{parent}</wp:comment_parent>"
                    "</wp:comment>\n"
                )
                if kind == "comment":
                    ids.append((cid, depth))
            out.write("</item>\n")
            items += 1
        out.write("</channel>\n</rss>\n")
    return items


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """``(wall seconds, CPU seconds, stdout)`` of one ``parley`` command."""
    started, cpu = time.monotonic(), _cpu()
    done = subprocess.run([str(PARLEY), *args], env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"parley {' '.join(args)} failed: {done.stderr.strip()}")
    return elapsed, _cpu() - cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    opts = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-bench-import-"))
    wxr = work / "export.xml"
    t0 = time.monotonic()
    generate(wxr, opts.comments)
    gen_seconds = time.monotonic() - t0
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    env["PARLEY_DATABASE_URL"] = opts.database_url or f"sqlite:///{work / 'parley.db'}"
    env["PARLEY_DATA_DIR"] = str(work)
    env["PARLEY_LOG_LEVEL"] = "WARNING"
    run(["db", "upgrade"], env)
    run(["sites", "add", "--slug", "bench", "--name", "Bench"], env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    command = [
        "import",
        "wordpress",
        str(wxr),
        "--site",
        "bench",
        "--json",
        "--batch-size",
        str(opts.batch_size),
    ]
    seconds, cpu_seconds, out = run(command, env)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    summary = json.loads(out)
    created = summary["comments"]["created"]
    rerun_seconds, _, rerun = run(["import", "wordpress", str(wxr), "--site", "bench", "--json"], env)
    result = {
        "comments_in_file": opts.comments,
        "file_mb": round(wxr.stat().st_size / 2**20, 1),
        "generate_seconds": round(gen_seconds, 1),
        "database": "sqlite" if opts.database_url is None else opts.database_url.split(":", 1)[0],
        "import_seconds": round(seconds, 1),
        "comments_created": created,
        "comments_per_second": round(created / seconds),
        "import_cpu_seconds": round(cpu_seconds, 1),
        "comments_per_cpu_second": round(created / cpu_seconds),
        "load_average": round(os.getloadavg()[0], 1),
        "peak_rss_mb": round(max(peak_kb, before) / 1024, 1),
        "skipped": summary["skipped"],
        "by_status": summary["comments"]["by_status"],
        "authors_created": summary["authors"]["created"],
        "authors_renamed": len(summary["authors"]["renamed"]),
        "rerun_seconds": round(rerun_seconds, 1),
        "rerun_created": json.loads(rerun)["comments"]["created"],
    }
    print(json.dumps(result, indent=2))
    if not opts.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"files kept in {work}", file=sys.stderr)


if __name__ == "__main__":
    main()

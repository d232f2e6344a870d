"""Copy-index lookup cost at 10k, 100k and 1M stored comments (in memory and in SQLite).

The issue asks that copy detection's lookup cost not grow with the number of stored comments. Each
size is filled with random signatures (unrelated comments look random to MinHash), then 2,000
lookups run: half are near-duplicates of stored comments (about 10% of the signature changed, as
a lightly edited copy), half are new. A lookup is what the copies phase does: read the buckets,
fetch the candidates, estimate their similarity.

    .venv/bin/python benchmarks/bench_moderation_copies.py [--sizes 10000,100000,1000000] \
        [--backends memory,sqlite]

Prints one JSON object per backend and size, then the ratios largest/smallest. SQLite uses a
scratch file in a temporary directory with the production tables (``moderation_copy_*``);
PRAGMA settings match the server's (WAL, 16 MB page cache).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy import create_engine, event, insert
from sqlalchemy.orm import Session

from parley.db.base import import_all_models
from parley.moderation.copies import NUM_PERM, CopyEntry, band_keys, signature_to_bytes, similarity
from parley.moderation.memory import InMemoryCopyIndex
from parley.moderation.models import CopyBand, CopySignature
from parley.moderation.sql import SqlCopyIndex

SITE = "bench"
BASE_TS = 1_773_000_000.0


class Index(Protocol):
    def candidates(self, site: str, bands: list[int], since: float) -> list[CopyEntry]: ...


def random_signatures(n: int, rng: np.random.Generator) -> npt.NDArray[np.uint32]:
    return rng.integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint32)


def queries(
    sigs: npt.NDArray[np.uint32], rng: np.random.Generator, n: int = 2000
) -> list[npt.NDArray[np.uint32]]:
    out = []
    for i in range(n):
        if i % 2 == 0:  # a near-duplicate of a stored comment
            sig = sigs[rng.integers(0, len(sigs))].copy()
            changed = rng.choice(NUM_PERM, size=NUM_PERM // 10, replace=False)
            sig[changed] = rng.integers(0, 2**32, size=len(changed), dtype=np.uint32)
        else:
            sig = rng.integers(0, 2**32, size=NUM_PERM, dtype=np.uint32)
        out.append(sig)
    return out


def measure(index: Index, qs: list[npt.NDArray[np.uint32]]) -> dict[str, float]:
    times = []
    found = 0
    for sig in qs:
        bands = list(band_keys(sig))
        t0 = time.process_time()  # CPU time: the machine is shared, wall time would measure the neighbours
        hits = [e for e in index.candidates(SITE, bands, 0.0) if similarity(sig, e.signature) >= 0.8]
        times.append(time.process_time() - t0)
        found += bool(hits)
    return {
        "mean_us": round(statistics.fmean(times) * 1e6, 1),
        "median_us": round(statistics.median(times) * 1e6, 1),
        "p99_us": round(sorted(times)[int(len(times) * 0.99)] * 1e6, 1),
        "found_share": round(found / len(qs), 3),
    }


def fill_memory(sigs: npt.NDArray[np.uint32]) -> InMemoryCopyIndex:
    index = InMemoryCopyIndex()
    for i, sig in enumerate(sigs):
        index.add(SITE, CopyEntry(i, f"acct:{i % 5000}", BASE_TS + i, sig, i), band_keys(sig))
    return index


def fill_sqlite(sigs: npt.NDArray[np.uint32], path: Path) -> Session:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(conn, _record):  # type: ignore[no-untyped-def]
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA cache_size=-16000")

    import_all_models()  # the tables' foreign keys name sites and comments (not enforced here)
    CopySignature.__table__.create(engine)  # type: ignore[attr-defined]
    CopyBand.__table__.create(engine)  # type: ignore[attr-defined]
    session = Session(engine)
    batch = 20_000
    for start in range(0, len(sigs), batch):
        chunk = sigs[start : start + batch]
        signatures = []
        bands = []
        for j, sig in enumerate(chunk):
            cid = start + j + 1
            signatures.append(
                {
                    "comment_id": cid,
                    "site_id": 1,
                    "author_key": f"acct:{cid % 5000}",
                    "published_at": _dt(BASE_TS + cid),
                    "signature": signature_to_bytes(sig),
                    "wave_id": cid,
                }
            )
            bands.extend(
                {"site_id": 1, "bucket": b, "comment_id": cid} for b in dict.fromkeys(band_keys(sig))
            )
        session.execute(insert(CopySignature), signatures)
        session.execute(insert(CopyBand), bands)
        session.commit()
    session.execute(CopyBand.__table__.select().limit(1))  # type: ignore[attr-defined]
    return session


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="memory,sqlite")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = set(args.backends.split(","))
    results: dict[str, dict[int, dict[str, float]]] = {"memory": {}, "sqlite": {}}
    for n in sizes:
        rng = np.random.default_rng(n)
        sigs = random_signatures(n, rng)
        qs = queries(sigs, rng)
        if "memory" in backends:
            t0 = time.perf_counter()
            memory = fill_memory(sigs)
            fill = time.perf_counter() - t0
            r = {"stored": n, "fill_seconds": round(fill, 1), **measure(memory, qs)}
            results["memory"][n] = r
            print(json.dumps({"backend": "memory", **r}), flush=True)
            del memory
        if "sqlite" in backends:
            with tempfile.TemporaryDirectory() as tmp:
                t0 = time.perf_counter()
                session = fill_sqlite(sigs, Path(tmp) / "copies.db")
                fill = time.perf_counter() - t0
                index = SqlCopyIndex(session)
                index._site_ids[SITE] = 1  # the scratch database has no sites table
                measure(index, qs[:200])  # warm the page cache like a running server
                r = {"stored": n, "fill_seconds": round(fill, 1), **measure(index, qs)}
                results["sqlite"][n] = r
                print(json.dumps({"backend": "sqlite", **r}), flush=True)
                session.close()
    for backend, by_size in results.items():
        if len(by_size) >= 2:
            small, large = by_size[min(by_size)], by_size[max(by_size)]
            print(
                json.dumps(
                    {
                        "backend": backend,
                        "ratio": f"{max(by_size)}/{min(by_size)}",
                        "mean_ratio": round(large["mean_us"] / small["mean_us"], 2),
                        "median_ratio": round(large["median_us"] / small["median_us"], 2),
                        "load_average": os.getloadavg()[0],
                    }
                )
            )


if __name__ == "__main__":
    main()

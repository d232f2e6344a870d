"""A served worker moves what it started with into the garbage collector's permanent generation,
and collects new objects less often than Python does by default."""

from __future__ import annotations

import gc
from pathlib import Path

from fastapi.testclient import TestClient

from parley.app import create_app
from support.apps import settings_for


def test_a_served_app_freezes_its_start_up_heap_and_an_embedded_one_does_not(tmp_path: Path) -> None:
    settings = settings_for(f"sqlite:///{tmp_path / 'p.db'}", tmp_path, gc_young_threshold=12_345)
    gc.unfreeze()
    before = gc.get_threshold()
    try:
        with TestClient(create_app(settings)) as client:
            assert client.get("/healthz").status_code == 200
            assert gc.get_freeze_count() == 0  # tests and tools keep the collector as it is
            assert gc.get_threshold() == before
        with TestClient(create_app(settings, freeze_heap=True)) as client:
            assert client.get("/healthz").status_code == 200
            # the modules, the app and its registry: far more objects than any request leaves behind
            assert gc.get_freeze_count() > 50_000
            assert gc.get_threshold() == (12_345, *before[1:])
    finally:
        gc.unfreeze()  # the test process's objects go back to being collected
        gc.set_threshold(*before)

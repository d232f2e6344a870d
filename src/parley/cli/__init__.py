"""The ``parley`` command line (Typer)."""

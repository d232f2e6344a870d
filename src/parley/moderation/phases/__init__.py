"""One module per moderation phase; the order lives in :mod:`parley.moderation.pipeline`."""

"""The demo: the seed article and its six comments, loaded by ``parley demo`` and shown at ``/``."""

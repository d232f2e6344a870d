"""Transparency reports (DSA Art. 15 and 24) for a period: ``parley report transparency``."""

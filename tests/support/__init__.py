"""Helpers shared by the test suites and benchmarks (real servers, factories)."""

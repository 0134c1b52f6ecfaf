"""Benchmarks: ``python -m tests.benchmarks`` (see docs/performance.md)."""

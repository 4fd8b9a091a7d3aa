"""Benchmarks: `python -m bench.run [name ...]` (see bench/run.py and bench/RESULTS.md)."""

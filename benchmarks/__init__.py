"""Benchmarks: each ``bench_*.py`` measures ours against a named peer in the same process (JSON lines)."""

"""Benchmark scripts: each prints one JSON document and compares against a baseline
measured in the same run on the same machine. Not tests; see docs/performance.md."""

"""Benchmarks, never run by the test suite.

`python -m benchmarks --scale N [--json PATH]` measures the whole pipeline per stage against the
DuckDB floor and a plain pandas script (docs/benchmarks.md); each measurement runs in its own
subprocess, so wall time, CPU time and peak memory are per measurement. The other modules time
single parts (the PostgreSQL connector, the quality checks, the report's render).
"""

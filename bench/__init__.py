"""Benchmarks: every figure is a ratio to a reference measured in the same run (DESIGN §8).

`python -m bench.run` (or `make bench`) runs them all; see bench/README.md.
"""

"""Benchmarks. Each writes JSON (and PNG plots) to bench/results/ and compares side by side in
one run, because these machines are noisy and only ratios are stable."""

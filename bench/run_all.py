"""`make bench`: every benchmark, one after another, each in its own process (each owns a
TensorFlow runtime and some need tf-keras), then the README's Results section is rendered.

    python -m bench.run_all [--quick] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from bench import render_readme

BENCHMARKS = [
    "mask_update",
    "engine_overhead",
    "small_model_overhead",
    "trainer_memory",
    "quality",
    "large_sparse",
    "size",
    "payoff",
    "service",
    "service_load",
    "channels",
    "sweep",
    "scale",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="CI-sized runs")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run just these")
    args = parser.parse_args(argv)
    failed = []
    for name in args.only or BENCHMARKS:
        print(f"== bench.{name}", flush=True)
        started = time.monotonic()
        command = [sys.executable, "-m", f"bench.{name}"] + (["--quick"] if args.quick else [])
        if subprocess.run(command).returncode != 0:
            failed.append(name)
        print(f"== bench.{name}: {time.monotonic() - started:.0f} s", flush=True)
    # Whatever failed, the README shows what the results directory holds, and nothing else.
    render_readme.main([])
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the benchmarks: `python -m bench.run` (all) or `python -m bench.run ingest burst`;
`--quick` runs burst at a small scale.

Each prints its figures and ratios against a baseline measured in the same run."""

from __future__ import annotations

import asyncio
import importlib
import inspect
import sys
import time

from bench.common import machine, stamp

BENCHMARKS = {
    "ingest": "bench.ingest",
    "e2e": "bench.e2e",
    "burst": "bench.burst",
    "size": "bench.size",
    "apply": "bench.apply",
}


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    quick = "--quick" in args
    names = [a for a in args if a != "--quick"] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown}; choose from {', '.join(BENCHMARKS)}")
        return 2
    print(f"# {stamp()} — {machine()}")
    print(f"# python -m bench.run {' '.join(args)}")
    for name in names:
        started = time.monotonic()
        print(f"\n== {name}", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        options = {"quick": quick} if "quick" in inspect.signature(module.run).parameters else {}
        asyncio.run(module.run(**options))
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

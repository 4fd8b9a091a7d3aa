"""Run the benchmarks: `python -m bench.run` (all) or `python -m bench.run ingest size`.

Each prints its figures and ratios against a baseline measured in the same run."""

from __future__ import annotations

import asyncio
import importlib
import sys
import time

from bench.common import machine, stamp

BENCHMARKS = {
    "ingest": "bench.ingest",
    "size": "bench.size",
}


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark {unknown}; choose from {', '.join(BENCHMARKS)}")
        return 2
    print(f"# {stamp()} — {machine()}")
    print(f"# python -m bench.run {' '.join(names)}")
    for name in names:
        started = time.monotonic()
        print(f"\n== {name}", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        asyncio.run(module.run())
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Load generator, run as its own process so it does not share a CPU core's event loop
with the server under test: POSTs pre-signed form bodies with N concurrent clients and
prints a JSON report (latencies in seconds, statuses, wall time).

    python -m bench.load --file requests.json --url http://127.0.0.1:8080/twilio/sms
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections import Counter
from typing import Any

import aiohttp

FORM = "application/x-www-form-urlencoded"


async def fire(
    requests: list[tuple[str, str]],
    url: str,
    concurrency: int,
    rate: float,
) -> dict[str, Any]:
    """`rate` > 0: open loop, request i starts at i / rate (latency counts from then)."""
    latencies: list[float] = [0.0] * len(requests)
    statuses: Counter[int] = Counter()
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    next_index = 0
    start = time.perf_counter()

    async with aiohttp.ClientSession(connector=connector) as http:

        async def one(i: int) -> None:
            body, signature = requests[i]
            planned = start + i / rate if rate else time.perf_counter()
            if rate:
                await asyncio.sleep(max(0.0, planned - time.perf_counter()))
            try:
                async with http.post(
                    url,
                    data=body.encode(),
                    headers={"X-Twilio-Signature": signature, "Content-Type": FORM},
                ) as r:
                    await r.read()
                    statuses[r.status] += 1
            except aiohttp.ClientError:
                statuses[0] += 1
            latencies[i] = time.perf_counter() - planned

        async def client() -> None:
            nonlocal next_index
            while next_index < len(requests):
                i = next_index
                next_index += 1
                await one(i)

        if rate:
            await asyncio.gather(*(one(i) for i in range(len(requests))))
        else:
            await asyncio.gather(*(client() for _ in range(concurrency)))
        wall = time.perf_counter() - start
    return {
        "latencies": latencies,
        "statuses": {str(k): v for k, v in statuses.items()},
        "wall": wall,
        "count": len(requests),
    }


async def main_async(args: argparse.Namespace, requests: list[Any]) -> dict[str, Any]:
    warm, measured = requests[: args.warmup], requests[args.warmup :]
    if warm:
        await fire(warm, args.url, args.concurrency, 0.0)  # type: ignore[arg-type]
    return await fire(measured, args.url, args.concurrency, args.rate)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0)
    args = parser.parse_args()
    with open(args.file) as f:
        requests = [tuple(r) for r in json.load(f)]
    print(json.dumps(asyncio.run(main_async(args, requests))))


if __name__ == "__main__":
    main()

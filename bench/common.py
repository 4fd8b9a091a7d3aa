"""Shared machinery of the benchmarks: the machine, percentiles, a `smsbridge run`
subprocess on a temp database, and the load generator subprocess (bench/load.py).

Every benchmark measures its baseline in the same run on the same machine and prints
ratios against it; absolute figures are only meaningful next to their baseline."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "bench-twilio-token"
LINE = "+15005550006"


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{os.cpu_count()} CPUs (nproc), {cpu}, {ram} RAM, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmRSS:"):
            return int(row.split()[1])
    return 0


@contextmanager
def workdir(keep: bool = False) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="smsbridge-bench-") as tmp:
        yield Path(tmp)


TOML = """
[organizations.acme]
name = "Acme Roofing"
timezone = "UTC"

[lines."{line}"]
organization = "acme"
label = "Sales"
{routes}
"""


@dataclass
class Server:
    """A `smsbridge run` subprocess."""

    proc: subprocess.Popen[bytes]
    url: str
    env: dict[str, str]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def server_env(tmp: Path, db_url: str, port: int, **extra: str) -> dict[str, str]:
    routes = extra.pop("_routes", "")
    (tmp / "smsbridge.toml").write_text(TOML.format(line=LINE, routes=routes))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "OPENAI_", "TWILIO_", "SMSBRIDGE_"))
    }
    env.update(
        SMSBRIDGE_DATABASE_URL=db_url,
        SMSBRIDGE_CONFIG=str(tmp / "smsbridge.toml"),
        SMSBRIDGE_PUBLIC_URL=f"http://127.0.0.1:{port}",
        SMSBRIDGE_HOST="127.0.0.1",
        SMSBRIDGE_PORT=str(port),
        SMSBRIDGE_UNDO_SECONDS="0",
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_URL="http://127.0.0.1:9",  # nothing is sent in these benchmarks
    )
    env.update(extra)
    return env


async def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                async with http.get(url + "/healthz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} not healthy within {timeout}s")


def spawn(
    args: list[str], env: dict[str, str] | None = None, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """A Python subprocess in the repository, its output appended to `log`."""
    if log is None:
        return subprocess.Popen([sys.executable, *args], cwd=REPO, env=env)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, *args], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )


async def start_server(
    tmp: Path, db_url: str, *, port: int | None = None, log_level: str = "INFO", **env: str
) -> Server:
    port = port or free_port()
    full_env = server_env(tmp, db_url, port, **env)
    return await serve(["-m", "bot.cli", "--log-level", log_level, "run"], tmp, port, full_env)


async def serve(args: list[str], tmp: Path, port: int, env: dict[str, str]) -> Server:
    """Spawn a server process (output in tmp/server.log) and wait until it is healthy."""
    log = tmp / "server.log"
    proc = spawn(args, env, log)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url, proc)
    except BaseException:
        proc.kill()
        print(log.read_text()[-3000:], file=sys.stderr)
        raise
    return Server(proc, url, env, log)


def run_load(
    requests_file: Path, url: str, concurrency: int, *, warmup: int = 0, rate: float = 0.0
) -> dict[str, Any]:
    """Run bench/load.py in its own process; returns its JSON report."""
    cmd = [
        sys.executable,
        "-m",
        "bench.load",
        "--file",
        str(requests_file),
        "--url",
        url,
        "--concurrency",
        str(concurrency),
        "--warmup",
        str(warmup),
        "--rate",
        str(rate),
    ]
    out = subprocess.run(cmd, cwd=REPO, capture_output=True, check=False, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr.decode()[-2000:]}")
    return json.loads(out.stdout)

"""The container image, built from a clean clone the way a deployer builds it: it runs the
demo, and `smsbridge run` in it answers /healthz as a non-root user and stops on SIGTERM
well inside Docker's 10 s grace.

Slow (minutes: a base image, apt and pip in the build), so it runs only where
SMSBRIDGE_TEST_DOCKER names a BuildKit-capable docker command (`.ci/run` sets it when it
can start dockerd); it skips where that docker cannot reach a daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
DOCKER = os.environ.get("SMSBRIDGE_TEST_DOCKER", "")

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(not DOCKER, reason="SMSBRIDGE_TEST_DOCKER is not set"),
]


def docker(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [DOCKER, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )


def ca_bundle() -> str | None:
    """The CA bundle pip trusts here, handed to the build as the `ca` secret."""
    for name in ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"):
        if os.environ.get(name) and Path(os.environ[name]).is_file():
            return os.environ[name]
    return None


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    try:
        docker("info", timeout=30)
    except (OSError, subprocess.SubprocessError):
        pytest.skip(f"{DOCKER} cannot reach a docker daemon")
    subprocess.run([str(REPO / "docker/base-image.sh"), DOCKER], check=True, timeout=900)
    clone = tmp_path_factory.mktemp("clone") / "smsbridge"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    tag = f"smsbridge:test-{os.getpid()}"
    secret = ["--secret", f"id=ca,src={ca}"] if (ca := ca_bundle()) else []
    built = docker("build", "--network", "host", *secret, "-t", tag, str(clone), timeout=1500,
                   check=False)  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    try:
        yield tag
    finally:
        docker("rmi", "-f", tag, check=False)
        shutil.rmtree(clone, ignore_errors=True)


def test_the_image_runs_the_demo(image: str) -> None:
    demo = docker("run", "--rm", "--network", "host", image, "smsbridge", "demo", timeout=300,
                  check=False)  # fmt: skip
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]


def test_smsbridge_run_in_the_image_answers_healthz_as_a_non_root_user(image: str) -> None:
    port = free_port()
    name = f"smsbridge-test-{os.getpid()}"
    docker("run", "-d", "--name", name, "--network", "host", "-e", f"SMSBRIDGE_PORT={port}", image)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        assert docker("exec", name, "id", "-u").stdout.strip() != "0"
        started = time.monotonic()
        docker("stop", "--time", "10", name, timeout=30)
        assert time.monotonic() - started < 9
        state = docker("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        assert state == "0"
    finally:
        docker("rm", "-f", name, check=False)
